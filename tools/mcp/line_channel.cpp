#include "tools/mcp/line_channel.hpp"

#include <unistd.h>

#include <cerrno>

namespace dsv4::tools::mcp {

std::optional<LineReader::Line> LineReader::next() {
  for (;;) {
    auto newline = buffer_.find('\n', scanned_);
    if (newline != std::string::npos) {
      std::string text = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      scanned_ = 0;
      if (skipping_ || text.size() > max_bytes_) {
        skipping_ = false;
        return Line{{}, true};
      }
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (text.find_first_not_of(" \t") == std::string::npos) continue;
      return Line{std::move(text), false};
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > max_bytes_) {
      // Keep reading to the end of this line, but never hold more of it.
      skipping_ = true;
      buffer_.clear();
      scanned_ = 0;
    }
    if (eof_) {
      if (skipping_) {
        skipping_ = false;
        return Line{{}, true};
      }
      if (buffer_.find_first_not_of(" \t\r") == std::string::npos) return std::nullopt;
      std::string text = std::move(buffer_);
      buffer_.clear();
      return Line{std::move(text), false};
    }
    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

bool LineWriter::write(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (broken_) return false;
  std::string framed(line);
  framed.push_back('\n');
  size_t done = 0;
  while (done < framed.size()) {
    ssize_t n = ::write(fd_, framed.data() + done, framed.size() - done);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      broken_ = true;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace dsv4::tools::mcp
