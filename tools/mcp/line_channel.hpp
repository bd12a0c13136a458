#pragma once
// Newline-delimited messages over file descriptors, as MCP's stdio transport frames them.
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace dsv4::tools::mcp {

// Reads lines of at most `max_bytes`; a longer line is skipped whole and reported.
class LineReader {
 public:
  LineReader(int fd, size_t max_bytes) : fd_(fd), max_bytes_(max_bytes) {}

  struct Line {
    std::string text;
    bool too_long = false;  // text is empty; the line was dropped
  };
  // The next non-empty line without its terminator, or nothing at end of input.
  std::optional<Line> next();

 private:
  int fd_;
  size_t max_bytes_;
  std::string buffer_;
  size_t scanned_ = 0;
  bool eof_ = false;
  bool skipping_ = false;
};

// Writes whole lines; safe to call from many threads, lines never interleave.
class LineWriter {
 public:
  explicit LineWriter(int fd) : fd_(fd) {}
  // False once the reader has gone away (EPIPE).
  bool write(std::string_view line);

 private:
  int fd_;
  std::mutex mutex_;
  bool broken_ = false;
};

}  // namespace dsv4::tools::mcp
