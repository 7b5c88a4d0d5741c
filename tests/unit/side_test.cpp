// Side: a group side kept as a list or a bitmap must read back as the same ascending nodes.
#include "graph.h"
#include "side.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>

using bulkhead::analyzer::EdgeGroup;
using bulkhead::analyzer::NodeId;
using bulkhead::analyzer::Side;

namespace {

std::vector<NodeId> read(const Side& s) {
    return {s.begin(), s.end()};
}

std::vector<NodeId> fromBlocks(const Side& s) {
    std::vector<NodeId> out;
    NodeId last = 0;
    bool first = true;
    s.forEachBlock([&](NodeId k, std::uint64_t mask) {
        CHECK(mask != 0);
        CHECK((first || k > last)); // ascending, each range once
        first = false;
        last = k;
        for (NodeId bit = 0; bit < 64; ++bit)
            if (mask >> bit & 1)
                out.push_back(k * 64 + bit);
    });
    return out;
}

} // namespace

TEST_CASE("a side reads back its nodes, in either form") {
    // Sparse (a list), dense (a bitmap), word edges, a base far from 0, one node, none.
    std::vector<std::vector<NodeId>> cases = {
        {}, {7}, {0, 63, 64, 127, 128}, {1000, 5000, 9000}, {},
    };
    for (NodeId n = 60; n < 200; ++n)
        cases[4].push_back(n); // dense across three words, starting mid-word
    std::vector<NodeId> wordEdges;
    for (NodeId n = 6400; n < 6400 + 64 * 5; n += 2)
        wordEdges.push_back(n);
    wordEdges.push_back(6400 + 64 * 5 + 63); // the last bit of a word
    cases.push_back(wordEdges);
    for (const std::vector<NodeId>& nodes : cases) {
        Side s(nodes);
        INFO("nodes: " << nodes.size());
        CHECK(read(s) == nodes);
        CHECK(fromBlocks(s) == nodes);
        CHECK(s.size() == nodes.size());
        CHECK(s.empty() == nodes.empty());
        Side again(nodes);
        CHECK(s == again);
        CHECK(s.hash() == again.hash());
    }
    CHECK(read(Side()).empty());
    CHECK(Side() == Side(std::vector<NodeId>{}));
}

TEST_CASE("random sides: the same nodes, equal exactly when the sets are") {
    std::mt19937 rng(20261128);
    std::vector<Side> made;
    std::vector<std::vector<NodeId>> sets;
    for (int round = 0; round < 400; ++round) {
        NodeId base = std::uniform_int_distribution<NodeId>(0, 3000)(rng);
        NodeId span = std::uniform_int_distribution<NodeId>(1, 2000)(rng);
        double density = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        std::set<NodeId> chosen;
        for (NodeId n = base; n < base + span; ++n)
            if (std::bernoulli_distribution(density)(rng))
                chosen.insert(n);
        std::vector<NodeId> nodes(chosen.begin(), chosen.end());
        Side s(nodes);
        REQUIRE(read(s) == nodes);
        REQUIRE(fromBlocks(s) == nodes);
        REQUIRE(s.size() == nodes.size());
        // std algorithms read it as a forward range
        CHECK(std::distance(s.begin(), s.end()) == static_cast<std::ptrdiff_t>(nodes.size()));
        made.push_back(s);
        sets.push_back(nodes);
    }
    for (std::size_t i = 0; i < made.size(); i += 7)
        for (std::size_t j = 0; j < made.size(); j += 5) {
            CHECK((made[i] == made[j]) == (sets[i] == sets[j]));
            if (sets[i] == sets[j])
                CHECK(made[i].hash() == made[j].hash());
            // A group over the two: every pair but a node with itself (EdgeGroup::pairs).
            std::vector<NodeId> both;
            std::set_intersection(sets[i].begin(), sets[i].end(), sets[j].begin(), sets[j].end(),
                                  std::back_inserter(both));
            EdgeGroup g;
            g.from = made[i];
            g.to = made[j];
            CHECK(g.pairs() == sets[i].size() * sets[j].size() - both.size());
        }
    // One node more or less is another side, in either form.
    std::vector<NodeId> dense;
    for (NodeId n = 100; n < 400; ++n)
        dense.push_back(n);
    std::vector<NodeId> less = dense;
    less.erase(less.begin() + 150);
    CHECK_FALSE(Side(dense) == Side(less));
    std::vector<NodeId> sparse = {3, 900, 4000};
    CHECK_FALSE(Side(sparse) == Side(std::vector<NodeId>{3, 900}));
}

TEST_CASE("the graph finds the groups of a node through their sides, sparse or dense") {
    // forGroupsFrom reads a side's dense blocks from a per-block index and its other nodes
    // from a per-node one: every node must get exactly the groups whose `from` holds it.
    using namespace bulkhead::analyzer;
    std::mt19937 rng(71);
    Graph g;
    const NodeId nodes = 700;
    for (NodeId n = 0; n < nodes; ++n) {
        Node node;
        node.name = "n" + std::to_string(n);
        g.add(std::move(node));
    }
    std::vector<std::vector<NodeId>> froms;
    for (int gi = 0; gi < 300; ++gi) {
        std::vector<NodeId> from;
        if (gi % 3 == 0 && !froms.empty()) {
            from = froms[rng() % froms.size()]; // shared sides: one index entry, many groups
        } else {
            double density = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            density = density * density * density; // mostly sparse, some dense
            auto pick = [&](NodeId below) { return static_cast<NodeId>(rng() % below); };
            NodeId lo = pick(nodes), hi = lo + pick(nodes - lo) + 1;
            for (NodeId n = lo; n < hi; ++n)
                if (std::bernoulli_distribution(density)(rng))
                    from.push_back(n);
            if (from.empty())
                from.push_back(lo);
        }
        EdgeGroup grp;
        grp.from = from;
        grp.to = {static_cast<NodeId>(rng() % nodes)};
        g.addGroup(grp);
        froms.push_back(from);
    }
    g.seal();
    for (NodeId n = 0; n < nodes; ++n) {
        std::multiset<std::uint32_t> found, wanted;
        g.forGroupsFrom(n, [&](std::uint32_t gi) { found.insert(gi); });
        for (std::uint32_t gi = 0; gi < froms.size(); ++gi)
            if (std::binary_search(froms[gi].begin(), froms[gi].end(), n))
                wanted.insert(gi);
        REQUIRE(found == wanted);
    }
}
