#include "tools/text_search.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "sandbox/workspace.hpp"
#include "tools/glob.hpp"
#include "tools/regex.hpp"
#include "tools/utf8.hpp"
#include "tools/walk.hpp"

namespace dsv4::tools {
namespace {

// Files up to this size are read into a reused buffer; bigger ones are mapped.
constexpr size_t kReadLimit = 8 << 20;
// ripgrep reads 64 KiB at a time and stops at the first buffer holding a NUL byte.
constexpr size_t kRgBuffer = 64 << 10;

// A file's bytes, read or mapped.
class FileBytes {
 public:
  explicit FileBytes(int fd) {
    struct ::stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
    size_t size = static_cast<size_t>(st.st_size);
    if (size > kReadLimit) {
      void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) return;
      ::madvise(p, size, MADV_SEQUENTIAL);
      map_ = p;
      view_ = {static_cast<const char*>(p), size};
      return;
    }
    thread_local std::unique_ptr<char[]> buffer;
    thread_local size_t capacity = 0;
    if (capacity < size) {
      capacity = std::max(size, size_t{1} << 20);
      buffer.reset(new char[capacity]);
    }
    size_t got = 0;
    while (got < size) {
      ssize_t n = ::read(fd, buffer.get() + got, size - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    view_ = {buffer.get(), got};
  }
  ~FileBytes() {
    if (map_) ::munmap(map_, view_.size());
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  std::string_view view() const { return view_; }

 private:
  void* map_ = nullptr;
  std::string_view view_;
};

// How much of a file ripgrep searches: all of it without a NUL byte; otherwise the
// complete lines of the 64 KiB reads before the one that holds the first NUL.
size_t searchable_length(std::string_view data) {
  const void* nul = std::memchr(data.data(), 0, data.size());
  if (!nul) return data.size();
  size_t first_nul = static_cast<size_t>(static_cast<const char*>(nul) - data.data());
  size_t start = 0, capacity = kRgBuffer;
  for (;;) {
    size_t end = std::min(start + capacity, data.size());
    if (end > first_nul) return start;
    const void* nl = ::memrchr(data.data() + start, '\n', end - start);
    if (!nl) {
      capacity *= 2;  // a line longer than the buffer grows it
      continue;
    }
    start = static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1;
  }
}

bool is_ascii(std::string_view data) {
  unsigned char any = 0;
  for (unsigned char c : data) any |= c;
  return any < 0x80;
}

size_t count_newlines(const char* p, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += p[i] == '\n';
  return count;
}

// A long line as a window around `at`, marked where it was cut.
std::string shown(std::string_view line, size_t at) {
  if (line.size() <= kMaxLineBytes) return std::string(line);
  size_t begin = utf8_floor(line, at > 100 ? at - 100 : 0);
  size_t end = utf8_floor(line, begin + kMaxLineBytes - 100);
  std::string out = begin > 0 ? "[...] " : "";
  out += line.substr(begin, end - begin);
  out += " [... line of " + std::to_string(line.size()) + " bytes cut]";
  return out;
}

class Searcher {
 public:
  Searcher(const TextSearch& request, const Regex& regex) : req_(request), regex_(regex) {}

  // Appends the file's matching lines to `out`; false when it is binary.
  bool search(std::string_view data, const std::string& path, std::vector<LineMatch>& out,
              size_t limit) const {
    size_t length = searchable_length(data);
    bool binary = length < data.size();
    data = data.substr(0, length);
    bool ascii = regex_.unicode_classes() && is_ascii(data);
    size_t pos = 0, counted = 0;
    uint64_t line_no = 1;
    while (pos < data.size() && out.size() < limit) {
      size_t hit = regex_.next_candidate(data, pos, ascii);
      if (hit == std::string_view::npos || hit >= data.size()) break;
      const void* nl_before = ::memrchr(data.data() + pos, '\n', hit - pos);
      size_t begin = nl_before ? static_cast<size_t>(static_cast<const char*>(nl_before) - data.data()) + 1 : pos;
      const void* nl_after = std::memchr(data.data() + hit, '\n', data.size() - hit);
      size_t end = nl_after ? static_cast<size_t>(static_cast<const char*>(nl_after) - data.data()) : data.size();
      std::string_view line = data.substr(begin, end - begin);
      if (auto m = regex_.find_in_line(line, ascii)) {
        line_no += count_newlines(data.data() + counted, begin - counted);
        counted = begin;
        LineMatch match;
        match.path = path;
        match.line = line_no;
        match.column = m->begin + 1;
        match.text = shown(line, m->begin);
        if (req_.context > 0) add_context(data, begin, end, match);
        out.push_back(std::move(match));
      }
      pos = end + 1;
    }
    return !binary;
  }

 private:
  void add_context(std::string_view data, size_t begin, size_t end, LineMatch& m) const {
    size_t b = begin;
    for (int i = 0; i < req_.context && b > 0; ++i) {
      const void* nl = b >= 2 ? ::memrchr(data.data(), '\n', b - 1) : nullptr;
      size_t start = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1 : 0;
      m.before.insert(m.before.begin(), shown(data.substr(start, b - 1 - start), 0));
      b = start;
    }
    size_t e = end;
    for (int i = 0; i < req_.context && e + 1 < data.size(); ++i) {
      size_t start = e + 1;
      const void* nl = std::memchr(data.data() + start, '\n', data.size() - start);
      e = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
      m.after.push_back(shown(data.substr(start, e - start), 0));
    }
  }

  const TextSearch& req_;
  const Regex& regex_;
};

}  // namespace

TextSearchResult search_tree(const sandbox::Workspace& workspace, const TextSearch& request) {
  Regex regex(request.pattern, request.ignore_case);
  std::optional<PathGlob> glob;
  if (!request.glob.empty()) glob.emplace(request.glob);
  Searcher searcher(request, regex);
  TextSearchResult result;
  const size_t keep = request.max_results == std::numeric_limits<size_t>::max()
                          ? request.max_results
                          : request.max_results + 1;  // one more proves truncation

  std::string start = workspace.relative(request.path);
  struct ::stat st {};
  if (!workspace.stat(start, st))
    throw std::system_error(ENOENT, std::generic_category(),
                            "'" + request.path + "' does not exist in the workspace");
  if (!S_ISDIR(st.st_mode)) {
    // One file named explicitly: searched even if ignored or hidden, as rg does.
    sandbox::Fd fd = workspace.open_read(start);
    FileBytes bytes(fd.get());
    result.files_searched = 1;
    if (!searcher.search(bytes.view(), start, result.matches, keep)) result.binary_files = 1;
  } else {
    std::mutex mu;
    std::atomic<size_t> found{0}, files{0}, binary{0};
    WalkOptions options;
    options.path = start;
    options.threads = request.threads ? request.threads
                                      : std::max(1u, std::thread::hardware_concurrency());
    const size_t prefix = start.empty() ? 0 : start.size() + 1;
    walk(workspace, options, [&](const Entry& e) {
      if (e.kind != Entry::Kind::file) return true;
      if (glob && !glob->matches(std::string_view(e.path).substr(prefix))) return true;
      sandbox::Fd fd = e.open();
      if (!fd) return true;
      FileBytes bytes(fd.get());
      files.fetch_add(1, std::memory_order_relaxed);
      thread_local std::vector<LineMatch> local;
      local.clear();
      if (!searcher.search(bytes.view(), e.path, local, keep))
        binary.fetch_add(1, std::memory_order_relaxed);
      if (local.empty()) return true;
      size_t total = found.fetch_add(local.size()) + local.size();
      std::lock_guard lock(mu);
      std::move(local.begin(), local.end(), std::back_inserter(result.matches));
      return total < keep;
    });
    result.files_searched = files;
    result.binary_files = binary;
  }
  std::sort(result.matches.begin(), result.matches.end(),
            [](const LineMatch& a, const LineMatch& b) {
              return a.path != b.path ? a.path < b.path : a.line < b.line;
            });
  if (result.matches.size() > request.max_results) {
    result.matches.resize(request.max_results);
    result.truncated = true;
  }
  return result;
}

}  // namespace dsv4::tools
