#pragma once
// Byte-pair encoding of one pre-token over raw bytes: start from one token per byte and
// apply the lowest-ranked merge that is possible, leftmost first, until none is.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/tokenizer.hpp"

namespace dsv4::engine {

struct BpeMerge {
  TokenId left, right, merged;
};

class BytePairEncoder {
 public:
  // `byte_ids[b]`: the token of the single byte b. `merges` in rank order, best first.
  BytePairEncoder(const std::array<TokenId, 256>& byte_ids, const std::vector<BpeMerge>& merges);

  // Appends the tokens of `piece` to `out`.
  void encode(std::string_view piece, std::vector<TokenId>& out) const;

 private:
  struct Slot {
    uint64_t key;  // left << 32 | right; kEmpty when free
    uint32_t rank;
    TokenId merged;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  const Slot* find(TokenId left, TokenId right) const;

  std::array<TokenId, 256> byte_ids_;
  std::vector<Slot> slots_;  // open addressing, linear probing, a power of two in size
  int shift_ = 0;
};

}  // namespace dsv4::engine
