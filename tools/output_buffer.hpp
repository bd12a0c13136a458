#pragma once
// A command's output kept in bounded memory: the first bytes and the latest bytes, with
// counts of everything in between, rendered for the model as JSON-safe text that says
// what was cut and where.
#include <cstdint>
#include <string>
#include <string_view>

namespace dsv4::tools {

struct RenderedOutput {
  std::string text;            // valid UTF-8; other bytes appear as \xNN
  uint64_t cut_bytes = 0;      // bytes left out in the middle (named in `text`)
  uint64_t invalid_bytes = 0;  // bytes shown as \xNN
};

class OutputBuffer {
 public:
  // Keeps the first `head_limit` bytes and at least the last `tail_limit` bytes.
  OutputBuffer(size_t head_limit, size_t tail_limit);

  void append(std::string_view bytes);
  uint64_t total_bytes() const { return total_; }

  // Bytes [since, total) showing at most `show_head` bytes from their start and
  // `show_tail` from their end, cut at line ends where one is near. Bytes no longer kept
  // count as cut. Throws std::out_of_range when `since` is beyond the end.
  RenderedOutput render(uint64_t since, size_t show_head, size_t show_tail) const;

 private:
  // Bytes [from, to), all of which must be kept.
  std::string slice(uint64_t from, uint64_t to) const;
  uint64_t newlines_in(uint64_t from, uint64_t to) const;

  size_t head_limit_, tail_limit_;
  std::string head_;         // bytes [0, head_.size())
  std::string tail_;         // bytes [tail_start_, total_)
  uint64_t tail_start_ = 0;  // >= head_.size(); the gap between them was dropped
  uint64_t dropped_newlines_ = 0;
  uint64_t total_ = 0;
};

// `bytes` as valid UTF-8: each byte that is not part of a well-formed sequence becomes
// the four characters \xNN; `invalid` counts them.
std::string escape_invalid_utf8(std::string_view bytes, uint64_t& invalid);

}  // namespace dsv4::tools
