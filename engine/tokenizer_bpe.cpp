#include "engine/tokenizer_bpe.hpp"

#include <functional>
#include <queue>

namespace dsv4::engine {
namespace {

uint64_t pair_key(TokenId left, TokenId right) {
  return uint64_t(uint32_t(left)) << 32 | uint32_t(right);
}

}  // namespace

BytePairEncoder::BytePairEncoder(const std::array<TokenId, 256>& byte_ids,
                                 const std::vector<BpeMerge>& merges)
    : byte_ids_(byte_ids) {
  int bits = 4;
  while ((size_t{1} << bits) < 2 * merges.size()) ++bits;
  slots_.assign(size_t{1} << bits, Slot{kEmpty, 0, 0});
  shift_ = 64 - bits;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const BpeMerge& m = merges[rank];
    const uint64_t key = pair_key(m.left, m.right);
    size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift_;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & (slots_.size() - 1);
    // A pair listed twice keeps its first (best) rank, as a rank map built in order would.
    if (slots_[i].key == kEmpty) slots_[i] = Slot{key, static_cast<uint32_t>(rank), m.merged};
  }
}

const BytePairEncoder::Slot* BytePairEncoder::find(TokenId left, TokenId right) const {
  const uint64_t key = pair_key(left, right);
  size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift_;
  while (slots_[i].key != key) {
    if (slots_[i].key == kEmpty) return nullptr;
    i = (i + 1) & (slots_.size() - 1);
  }
  return &slots_[i];
}

void BytePairEncoder::encode(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  // A doubly linked list of symbols over the bytes; a merge keeps the left one.
  struct Symbol {
    TokenId id;  // -1 once merged into its left neighbour
    int32_t prev, next;
  };
  // A possible merge of the symbol at `pos` with its right neighbour. It is stale when
  // either side has changed since; equal ids mean equal symbols, as a symbol only grows.
  struct Candidate {
    uint32_t rank;
    int32_t pos;
    TokenId left, right, merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  const auto n = static_cast<int32_t>(piece.size());
  std::vector<Symbol> symbols(n);
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = {byte_ids_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    if (const Slot* s = find(symbols[pos].id, symbols[next].id)) {
      queue.push({s->rank, pos, symbols[pos].id, symbols[next].id, s->merged});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.pos];
    if (left.id != c.left || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (right.id != c.right) continue;
    left.id = c.merged;
    right.id = -1;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = c.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace dsv4::engine
