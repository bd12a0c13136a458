#pragma once
// Unicode classes for the tokenizer's pre-tokenizer: general categories L, M, N, P, S and
// JavaScript's \s, as bits. The data comes from engine/unicode_tables.inc.
#include <cstdint>

namespace dsv4::engine::unicode {

enum ClassBit : uint8_t {
  kLetter = 1,   // \p{L}
  kMark = 2,     // \p{M}
  kNumber = 4,   // \p{N}
  kPunct = 8,    // \p{P}
  kSymbol = 16,  // \p{S}
  kSpace = 32,   // \s as JavaScript defines it (Zs, TAB..CR, U+2028/2029, U+FEFF)
};

// Class bits of a code point; 0 for unassigned, control, format, surrogate and
// out-of-range values.
uint8_t classes_of(char32_t cp);

}  // namespace dsv4::engine::unicode
