#include "side.h"

#include <algorithm>

namespace bulkhead::analyzer {

Side::Side() : rep_(std::make_shared<const Rep>()) {}

Side::Side(const std::vector<NodeId>& nodes) {
    auto rep = std::make_shared<Rep>();
    rep->count = nodes.size();
    if (!nodes.empty()) {
        NodeId base = nodes.front() / 64 * 64;
        std::size_t words = (nodes.back() - base) / 64 + 1;
        // A bitmap when it is smaller than the list: 8 bytes a word against 4 a node.
        if (words * 2 < nodes.size()) {
            rep->base = base;
            rep->words.assign(words, 0);
            for (NodeId n : nodes)
                rep->words[(n - base) / 64] |= std::uint64_t{1} << ((n - base) % 64);
        } else {
            rep->list = nodes;
        }
    }
    rep_ = std::move(rep);
}

Side::iterator Side::begin() const {
    iterator it;
    const Rep& r = *rep_;
    if (r.words.empty()) {
        it.list_ = r.list.data();
        return it;
    }
    it.at_ = r.words.data();
    it.words_ = r.words.size();
    it.base_ = r.base;
    it.bits_ = r.words[0];
    while (it.bits_ == 0 && ++it.word_ < it.words_)
        it.bits_ = r.words[it.word_];
    return it;
}

Side::iterator Side::end() const {
    iterator it;
    const Rep& r = *rep_;
    if (r.words.empty()) {
        it.list_ = r.list.data() + r.list.size();
        return it;
    }
    it.at_ = r.words.data();
    it.words_ = r.words.size();
    it.base_ = r.base;
    it.word_ = r.words.size();
    return it;
}

std::size_t Side::size() const {
    return rep_->count;
}

bool Side::operator==(const Side& o) const {
    // One set of nodes has one form: comparing the forms compares the sets.
    return rep_ == o.rep_ || (rep_->count == o.rep_->count && rep_->base == o.rep_->base &&
                              rep_->list == o.rep_->list && rep_->words == o.rep_->words);
}

std::size_t Side::hash() const {
    std::size_t h = rep_->count ^ (std::size_t{rep_->base} << 32);
    for (NodeId n : rep_->list)
        h = h * 1000003U ^ n;
    for (std::uint64_t w : rep_->words)
        h = h * 1000003U ^ static_cast<std::size_t>(w ^ (w >> 29));
    return h;
}

} // namespace bulkhead::analyzer
