#include "tools/output_buffer.hpp"

#include <algorithm>
#include <stdexcept>

#include "tools/utf8_text.hpp"

namespace dsv4::tools {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

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

// The length of `text` as a JSON string body.
size_t json_length(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f')
      n += 2;
    else if (static_cast<unsigned char>(c) < 0x20)
      n += 6;  // \u00NN
    else
      n += 1;
  }
  return n;
}

}  // namespace

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
  text += escape_invalid_utf8(slice(from, head_end), &r.invalid_bytes);
  if (tail_begin > head_end) {
    r.cut_bytes += tail_begin - head_end;
    add_cut_marker(text, tail_begin - head_end, newlines_in(head_end, tail_begin), true);
  }
  text += escape_invalid_utf8(slice(tail_begin, total_), &r.invalid_bytes);
  r.text = std::move(text);
  return r;
}

RenderedOutput OutputBuffer::for_result(uint64_t since) const {
  for (size_t show = kShowEachEnd;; show /= 2) {
    auto r = render(since, show, show);
    if (show <= 256 || json_length(r.text) <= kMaxOutputJson) return r;
  }
}

}  // namespace dsv4::tools
