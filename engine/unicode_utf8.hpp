#pragma once
// UTF-8 reading by the WHATWG / Unicode "maximal subpart" rules, the ones JavaScript's
// TextDecoder and Rust's from_utf8_lossy follow: each ill-formed subpart becomes one U+FFFD.
#include <cstddef>
#include <string>
#include <string_view>

namespace dsv4::engine::unicode {

enum class Utf8Status {
  kChar,       // a well-formed character
  kInvalid,    // an ill-formed subpart (one U+FFFD when decoded)
  kTruncated,  // a well-formed start of a character that the input ends inside of
};

struct Utf8Step {
  Utf8Status status;
  char32_t cp;  // the character when status is kChar
  size_t len;   // bytes taken, at least 1
};

// Reads the character or ill-formed subpart that starts at s[pos] (pos < s.size()).
Utf8Step next_utf8(std::string_view s, size_t pos);

// Appends `bytes` to `out` as UTF-8 with U+FFFD for ill-formed subparts and returns how
// many bytes it took. Unless `final`, a truncated character at the end is left for the
// caller to complete with more bytes.
size_t append_utf8_lossy(std::string_view bytes, std::string& out, bool final);

// `bytes` as valid UTF-8, ill-formed subparts replaced by U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace dsv4::engine::unicode
