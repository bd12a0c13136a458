#include "tools/output_buffer.hpp"

#include <algorithm>
#include <stdexcept>

namespace dsv4::tools {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if there is none
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (!is_continuation(s[i + k])) return 0;
  return len;
}

// How many bytes at the end of `s` are an unfinished multi-byte character.
size_t incomplete_suffix(std::string_view s) {
  for (size_t back = 1; back <= std::min<size_t>(3, s.size()); ++back) {
    auto b = static_cast<unsigned char>(s[s.size() - back]);
    if ((b & 0xC0) == 0x80) continue;
    size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    return len > back ? back : 0;
  }
  return 0;
}

// Says what was left out; starts on a line of its own.
void add_cut_marker(std::string& text, uint64_t bytes, uint64_t lines, bool lines_known) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "[... " + std::to_string(bytes) + " bytes";
  if (lines_known) text += " (" + std::to_string(lines) + " lines)";
  text += " cut here ...]\n";
}

}  // namespace

std::string escape_invalid_utf8(std::string_view bytes, uint64_t& invalid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    if (size_t len = sequence_length(bytes, i)) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      auto b = static_cast<unsigned char>(bytes[i++]);
      out += {'\\', 'x', kHex[b >> 4], kHex[b & 15]};
      ++invalid;
    }
  }
  return out;
}

OutputBuffer::OutputBuffer(size_t head_limit, size_t tail_limit)
    : head_limit_(head_limit), tail_limit_(tail_limit) {}

void OutputBuffer::append(std::string_view bytes) {
  total_ += bytes.size();
  if (tail_.empty() && head_.size() < head_limit_) {
    size_t n = std::min(head_limit_ - head_.size(), bytes.size());
    head_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    tail_start_ = head_.size();
  }
  tail_.append(bytes);
  // Trimming only once twice the limit is held keeps appends amortised O(1).
  if (tail_.size() > 2 * tail_limit_) {
    size_t drop = tail_.size() - tail_limit_;
    dropped_newlines_ +=
        static_cast<uint64_t>(std::count(tail_.begin(), tail_.begin() + drop, '\n'));
    tail_.erase(0, drop);
    tail_start_ += drop;
  }
}

std::string OutputBuffer::slice(uint64_t from, uint64_t to) const {
  std::string out;
  if (from < head_.size()) out.append(head_, from, std::min<uint64_t>(to, head_.size()) - from);
  if (to > tail_start_) {
    uint64_t start = std::max(from, tail_start_);
    out.append(tail_, start - tail_start_, to - start);
  }
  return out;
}

uint64_t OutputBuffer::newlines_in(uint64_t from, uint64_t to) const {
  uint64_t n = 0;
  if (from < head_.size()) {
    auto end = std::min<uint64_t>(to, head_.size());
    n += static_cast<uint64_t>(std::count(head_.begin() + from, head_.begin() + end, '\n'));
  }
  if (from <= head_.size() && to >= tail_start_) n += dropped_newlines_;
  if (to > tail_start_) {
    auto start = std::max(from, tail_start_);
    n += static_cast<uint64_t>(std::count(tail_.begin() + (start - tail_start_),
                                          tail_.begin() + (to - tail_start_), '\n'));
  }
  return n;
}

RenderedOutput OutputBuffer::render(uint64_t since, size_t show_head, size_t show_tail) const {
  if (since > total_)
    throw std::out_of_range("'since' " + std::to_string(since) + " is beyond the " +
                            std::to_string(total_) + " bytes of output so far");
  RenderedOutput r;
  std::string text;
  const bool has_gap = tail_start_ > head_.size();
  uint64_t from = since;
  if (has_gap && from >= head_.size() && from < tail_start_) {
    // The start of the requested range is no longer kept.
    r.cut_bytes = tail_start_ - from;
    add_cut_marker(text, r.cut_bytes, 0, false);
    from = tail_start_;
  }
  uint64_t head_end = std::min<uint64_t>(from + show_head, total_);
  if (has_gap && from < head_.size()) head_end = std::min<uint64_t>(head_end, head_.size());
  uint64_t tail_begin = std::max<uint64_t>(head_end, total_ > show_tail ? total_ - show_tail : 0);
  if (has_gap && tail_begin < tail_start_ && head_end <= head_.size()) tail_begin = tail_start_;

  if (tail_begin > head_end) {
    // Cut after a line end near the edges when there is one, else between characters.
    auto near_head = slice(
        std::max(from, head_end - std::min<uint64_t>(head_end - from, show_head / 4)), head_end);
    if (auto nl = near_head.rfind('\n'); nl != std::string::npos) {
      head_end -= near_head.size() - nl - 1;
    } else {
      head_end -= incomplete_suffix(near_head);
    }
    auto near_tail = slice(tail_begin, std::min<uint64_t>(total_, tail_begin + show_tail / 4));
    if (auto nl = near_tail.find('\n'); nl != std::string::npos && tail_begin + nl + 1 < total_) {
      tail_begin += nl + 1;
    } else {
      while (tail_begin < total_ && is_continuation(slice(tail_begin, tail_begin + 1).front()))
        ++tail_begin;
    }
  }
  text += escape_invalid_utf8(slice(from, head_end), r.invalid_bytes);
  if (tail_begin > head_end) {
    r.cut_bytes += tail_begin - head_end;
    add_cut_marker(text, tail_begin - head_end, newlines_in(head_end, tail_begin), true);
  }
  text += escape_invalid_utf8(slice(tail_begin, total_), r.invalid_bytes);
  r.text = std::move(text);
  return r;
}

}  // namespace dsv4::tools
