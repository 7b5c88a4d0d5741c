#pragma once
// One side of a group of rpc edges: a set of nodes, shared between the groups that have it.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <vector>

namespace bulkhead::analyzer {

using NodeId = std::uint32_t;

// Sorted, distinct nodes, held by a shared pointer so that the groups with the same nodes
// (both directions of a service, classes with the same landings, every service landing on
// all qubes) hold one copy between them (Graph::addGroup interns them). A side holding more
// than one node in 16 of its span is kept as a bitmap: the landings of a broad rule are most
// qubes, and a word per 64 nodes costs a sixteenth of a list of them (docs/performance.md,
// Round 8).
class Side {
    struct Rep;

public:
    // Ascending nodes, read from the list or the bitmap.
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = NodeId;
        using difference_type = std::ptrdiff_t;
        using pointer = const NodeId*;
        using reference = NodeId;

        iterator() = default;
        NodeId operator*() const {
            return list_ ? *list_
                         : base_ + static_cast<NodeId>(word_ * 64) +
                               static_cast<NodeId>(std::countr_zero(bits_));
        }
        iterator& operator++() {
            if (list_) {
                ++list_;
                return *this;
            }
            bits_ &= bits_ - 1;
            while (bits_ == 0 && ++word_ < words_)
                bits_ = at_[word_];
            return *this;
        }
        iterator operator++(int) {
            iterator old = *this;
            ++*this;
            return old;
        }
        bool operator==(const iterator& o) const {
            return list_ == o.list_ && word_ == o.word_ && bits_ == o.bits_;
        }

    private:
        friend class Side;
        const NodeId* list_ = nullptr;      // list form: the current node
        const std::uint64_t* at_ = nullptr; // bitmap form: the words
        std::size_t word_ = 0, words_ = 0;  // the current word, the word count
        std::uint64_t bits_ = 0;            // the current word's nodes not yet read
        NodeId base_ = 0;                   // the node of bit 0 of word 0
    };

    Side();
    Side(const std::vector<NodeId>& nodes);
    Side(std::initializer_list<NodeId> nodes) : Side(std::vector<NodeId>(nodes)) {}

    iterator begin() const;
    iterator end() const;
    std::size_t size() const;
    bool empty() const { return size() == 0; }
    // Calls f(k, mask) for each k with nodes in [64k, 64k + 64), ascending; bit i of mask is
    // node 64k + i.
    template <class F> void forEachBlock(F&& f) const;
    // The same address for equal interned sides (Graph::addGroup).
    const void* identity() const { return rep_.get(); }
    bool operator==(const Side& o) const;
    std::size_t hash() const;

private:
    struct Rep {
        std::vector<NodeId> list;         // list form
        std::vector<std::uint64_t> words; // bitmap form: bit i of word w is node base + 64w + i
        NodeId base = 0;                  // a multiple of 64
        std::size_t count = 0;
    };
    std::shared_ptr<const Rep> rep_;
};

template <class F> void Side::forEachBlock(F&& f) const {
    const Rep& r = *rep_;
    if (!r.words.empty()) {
        for (std::size_t w = 0; w < r.words.size(); ++w)
            if (r.words[w])
                f(static_cast<NodeId>(r.base / 64 + w), r.words[w]);
        return;
    }
    for (std::size_t i = 0; i < r.list.size();) {
        NodeId k = r.list[i] / 64;
        std::uint64_t mask = 0;
        for (; i < r.list.size() && r.list[i] / 64 == k; ++i)
            mask |= std::uint64_t{1} << (r.list[i] % 64);
        f(k, mask);
    }
}

} // namespace bulkhead::analyzer
