#include "tools/code/scan.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "sandbox/workspace.hpp"
#include "tools/registry.hpp"
#include "tools/utf8_text.hpp"
#include "tools/walk.hpp"

namespace dsv4::tools::code {

Skip read_source(const sandbox::Workspace& workspace, std::string_view path, std::string& text) {
  sandbox::Fd fd = workspace.open_read(path);
  struct ::stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot stat '" + std::string(path) + "'");
  if (!S_ISREG(st.st_mode)) return Skip::binary;
  if (static_cast<size_t>(st.st_size) > kMaxSourceBytes) return Skip::too_large;
  text.clear();
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::system_error(errno, std::generic_category(), "cannot read '" + std::string(path) + "'");
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    // The file may have grown since fstat.
    if (text.size() > kMaxSourceBytes) return Skip::too_large;
  }
  auto head = std::string_view(text).substr(0, 8192);
  return head.find('\0') == std::string_view::npos ? Skip::none : Skip::binary;
}

std::vector<SourceFile> source_files(const sandbox::Workspace& workspace, std::string_view path) {
  std::string rel = workspace.relative(path);
  std::vector<SourceFile> files;
  struct ::stat st {};
  if (!rel.empty() && workspace.stat(rel, st) && !S_ISDIR(st.st_mode)) {
    if (const Language* lang = language_for_path(rel); lang && S_ISREG(st.st_mode))
      files.push_back({rel, lang});
    return files;
  }
  WalkOptions options;
  options.path = rel;
  walk(workspace, options, [&](const Entry& entry) {
    if (entry.kind == Entry::Kind::file)
      if (const Language* lang = language_for_path(entry.path)) files.push_back({entry.path, lang});
    return true;
  });
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  return files;
}

void parallel_for(size_t count, std::stop_token stop, const std::function<void(size_t)>& work) {
  size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  threads = std::min(threads, count);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    try {
      for (size_t i; !stop.stop_requested() && !failed && (i = next++) < count;) work(i);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
  }
  if (failure) std::rethrow_exception(failure);
}

std::string ScanReport::note() const {
  std::string out;
  auto add = [&](size_t n, const std::string& what) {
    if (n == 0) return;
    out += (out.empty() ? "skipped " : ", ") + std::to_string(n) + " " + what;
  };
  add(too_large, "files over " + std::to_string(kMaxSourceBytes) + " bytes");
  add(binary, "binary files");
  add(unreadable, "unreadable files");
  if (stopped) out += std::string(out.empty() ? "" : "; ") + "cancelled before the end";
  return out;
}

std::string json_text(std::string_view bytes, size_t max_bytes) {
  if (bytes.size() <= max_bytes) return escape_invalid_utf8(bytes);
  return escape_invalid_utf8(bytes.substr(0, utf8_floor(bytes, max_bytes))) + "\xE2\x80\xA6";  // …
}

bool ListBudget::take(size_t bytes) {
  // A quarter of the cap is left for the rest of the result and its notes.
  if (shown_ == max_items_ || used_ + bytes > kMaxResultBytes * 3 / 4) {
    max_items_ = shown_;  // keep the list a prefix: nothing after the first refusal
    return false;
  }
  used_ += bytes;
  ++shown_;
  return true;
}

std::string join_notes(const std::vector<std::string>& notes) {
  std::string out;
  for (const auto& n : notes) out += (out.empty() ? "" : "; ") + n;
  return out;
}

ScanReport for_each_source(const sandbox::Workspace& workspace,
                           const std::vector<SourceFile>& files, std::stop_token stop,
                           const std::function<void(size_t, std::string_view)>& each) {
  std::atomic<size_t> searched{0}, too_large{0}, binary{0}, unreadable{0};
  parallel_for(files.size(), stop, [&](size_t i) {
    std::string text;
    Skip skip;
    try {
      skip = read_source(workspace, files[i].path, text);
    } catch (const std::exception&) {
      ++unreadable;  // vanished, unreadable or a symlink out of the workspace
      return;
    }
    if (skip == Skip::too_large) ++too_large;
    if (skip == Skip::binary) ++binary;
    if (skip != Skip::none) return;
    ++searched;
    each(i, text);
  });
  return {searched, too_large, binary, unreadable, stop.stop_requested()};
}

}  // namespace dsv4::tools::code
