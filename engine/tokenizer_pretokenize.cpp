#include "engine/tokenizer_pretokenize.hpp"

#include <array>
#include <cstdint>

#include "engine/unicode_classes.hpp"
#include "engine/unicode_utf8.hpp"

namespace dsv4::engine {
namespace {

using namespace unicode;

// Two more bits next to the Unicode classes.
constexpr uint8_t kCrLf = 64;  // [\r\n]
constexpr uint8_t kCjk = 128;  // [一-龥぀-ゟ゠-ヿ], the second Split step

struct Unit {
  uint8_t cls;
  uint8_t len;
};

uint8_t classes_with_extras(char32_t cp) {
  uint8_t cls = classes_of(cp);
  if (cp == '\r' || cp == '\n') cls |= kCrLf;
  if ((cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x3040 && cp <= 0x30FF)) cls |= kCjk;
  return cls;
}

const std::array<uint8_t, 128> kAscii = [] {
  std::array<uint8_t, 128> t{};
  for (char32_t c = 0; c < 128; ++c) t[c] = classes_with_extras(c);
  return t;
}();

// The character (or ill-formed subpart) at `pos`.
Unit unit_at(std::string_view t, size_t pos) {
  const auto b = static_cast<uint8_t>(t[pos]);
  if (b < 0x80) return {kAscii[b], 1};
  const Utf8Step step = next_utf8(t, pos);
  const uint8_t cls = step.status == Utf8Status::kChar ? classes_with_extras(step.cp) : 0;
  return {cls, static_cast<uint8_t>(step.len)};
}

bool is_ascii_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool is_ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

// End of the run of characters with any of `mask`, starting at `pos`.
size_t run_end(std::string_view t, size_t pos, size_t end, uint8_t mask) {
  while (pos < end) {
    const Unit u = unit_at(t, pos);
    if (!(u.cls & mask)) break;
    pos += u.len;
  }
  return pos;
}

// End of the main regex's match at `i` within [.., end), or `i` when none of its
// alternatives matches there. Each block is one alternative, in the regex's order, with
// the backtracking the regex would do spelled out.
size_t match_main(std::string_view t, size_t i, size_t end) {
  const Unit u = unit_at(t, i);
  const size_t next = i + u.len;
  const char c = t[i];

  // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
  if (is_ascii_punct(c)) {
    size_t j = next;
    while (j < end && is_ascii_alpha(t[j])) ++j;
    if (j > next) return j;
  }
  // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ : first with the optional character, then without.
  if (!(u.cls & (kLetter | kPunct | kSymbol | kCrLf))) {
    const size_t j = run_end(t, next, end, kLetter | kMark);
    if (j > next) return j;
  }
  if (u.cls & (kLetter | kMark)) return run_end(t, next, end, kLetter | kMark);
  // ' ?[\p{P}\p{S}]+[\r\n]*' (without the space, a space cannot start the run)
  const size_t start = c == ' ' ? next : i;
  const size_t symbols = run_end(t, start, end, kPunct | kSymbol);
  if (symbols > start) return run_end(t, symbols, end, kCrLf);
  if (!(u.cls & kSpace)) return i;
  // The whitespace run [i, ws_end), its last character starting at `last`.
  size_t ws_end = i, last = i, last_newline = std::string_view::npos;
  while (ws_end < end) {
    const Unit w = unit_at(t, ws_end);
    if (!(w.cls & kSpace)) break;
    if (w.cls & kCrLf) last_newline = ws_end;
    last = ws_end;
    ws_end += w.len;
  }
  // \s*[\r\n]+ : \s* backs off to the last CR/LF, which [\r\n]+ then takes.
  if (last_newline != std::string_view::npos) return last_newline + 1;
  // \s+(?!\S) : the whole run at the end of the piece, else all but its last character.
  if (ws_end == end || last == i) return ws_end;  // (the latter is \s+)
  return last;
}

// Splits [begin, end) by the main regex: matches and the text between them.
void split_main(std::string_view t, size_t begin, size_t end, std::vector<size_t>& ends) {
  size_t unmatched = begin, i = begin;
  while (i < end) {
    const size_t m = match_main(t, i, end);
    if (m == i) {
      i += unit_at(t, i).len;
      continue;
    }
    if (unmatched < i) ends.push_back(i);
    ends.push_back(m);
    i = unmatched = m;
  }
  if (unmatched < end) ends.push_back(end);
}

}  // namespace

void pretokenize(std::string_view text, std::vector<size_t>& ends) {
  // Steps one and two leave three kinds of chunk: up to three numeric characters, a run of
  // CJK characters, a run of anything else. The main regex matches nothing in a numeric
  // chunk (it stays whole) and splits the other two.
  size_t pos = 0;
  while (pos < text.size()) {
    const Unit first = unit_at(text, pos);
    size_t chunk_end = pos + first.len;
    if (first.cls & kNumber) {
      for (int n = 1; n < 3 && chunk_end < text.size(); ++n) {
        const Unit u = unit_at(text, chunk_end);
        if (!(u.cls & kNumber)) break;
        chunk_end += u.len;
      }
      ends.push_back(chunk_end);
    } else {
      const bool cjk = first.cls & kCjk;
      while (chunk_end < text.size()) {
        const Unit u = unit_at(text, chunk_end);
        if ((u.cls & kNumber) || bool(u.cls & kCjk) != cjk) break;
        chunk_end += u.len;
      }
      split_main(text, pos, chunk_end, ends);
    }
    pos = chunk_end;
  }
}

}  // namespace dsv4::engine
