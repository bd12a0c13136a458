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

}  // namespace dsv4::tools::code
