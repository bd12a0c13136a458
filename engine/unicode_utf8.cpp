#include "engine/unicode_utf8.hpp"

#include <cstdint>

namespace dsv4::engine::unicode {

Utf8Step next_utf8(std::string_view s, size_t pos) {
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) return {Utf8Status::kChar, b0, 1};
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {Utf8Status::kInvalid, 0, 1};
  }
  for (size_t k = 1; k <= need; ++k) {
    if (pos + k >= s.size()) return {Utf8Status::kTruncated, 0, k};
    const auto b = static_cast<uint8_t>(s[pos + k]);
    if (b < lo || b > hi) return {Utf8Status::kInvalid, 0, k};
    lo = 0x80, hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return {Utf8Status::kChar, cp, need + 1};
}

size_t append_utf8_lossy(std::string_view bytes, std::string& out, bool final) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Utf8Step step = next_utf8(bytes, pos);
    if (step.status == Utf8Status::kTruncated && !final) break;
    if (step.status == Utf8Status::kChar) {
      out.append(bytes.substr(pos, step.len));
    } else {
      out.append(kReplacement);
    }
    pos += step.len;
  }
  return pos;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  append_utf8_lossy(bytes, out, true);
  return out;
}

}  // namespace dsv4::engine::unicode
