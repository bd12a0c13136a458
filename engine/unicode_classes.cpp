#include "engine/unicode_classes.hpp"

#include <array>
#include <cstddef>
#include <map>
#include <vector>

namespace dsv4::engine::unicode {
namespace {

struct Run {
  char32_t first;
  uint8_t bits;
};

constexpr Run kRuns[] = {
#include "engine/unicode_tables.inc"
};

constexpr char32_t kCodeSpace = 0x110000;
constexpr size_t kBlock = 256;

// Two-stage lookup built once from the runs: a block index per 256 code points, and the
// distinct blocks (most of the code space shares a few of them).
struct Lookup {
  std::vector<uint16_t> block_of;
  std::vector<std::array<uint8_t, kBlock>> blocks;

  Lookup() {
    std::map<std::array<uint8_t, kBlock>, uint16_t> seen;
    size_t run = 0;
    const size_t nruns = sizeof(kRuns) / sizeof(kRuns[0]);
    for (char32_t base = 0; base < kCodeSpace; base += kBlock) {
      std::array<uint8_t, kBlock> block{};
      for (size_t i = 0; i < kBlock; ++i) {
        while (run + 1 < nruns && kRuns[run + 1].first <= base + i) ++run;
        block[i] = kRuns[run].bits;
      }
      auto [it, added] = seen.try_emplace(block, static_cast<uint16_t>(blocks.size()));
      if (added) blocks.push_back(block);
      block_of.push_back(it->second);
    }
  }
};

const Lookup& lookup() {
  static const Lookup table;
  return table;
}

}  // namespace

uint8_t classes_of(char32_t cp) {
  if (cp >= kCodeSpace) return 0;
  const Lookup& t = lookup();
  return t.blocks[t.block_of[cp / kBlock]][cp % kBlock];
}

}  // namespace dsv4::engine::unicode
