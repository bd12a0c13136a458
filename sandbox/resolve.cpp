#include "sandbox/resolve.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <vector>

#include "sandbox/fd.hpp"

namespace dsv4::sandbox {
namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's own limit
constexpr int kEagainRetries = 16;

long sys_openat2(int dirfd, const char* path, int flags, mode_t mode, unsigned long long resolve) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != EINTR) return fd;
  }
}

Resolver probe() {
  long fd = sys_openat2(AT_FDCWD, "/", O_PATH, 0, RESOLVE_NO_MAGICLINKS);
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    return Resolver::openat2;
  }
  return Resolver::walk;  // ENOSYS (old kernel) or EPERM (a container's seccomp profile)
}

std::atomic<int> forced{-1};

void split_into(std::deque<std::string>& out, const std::string& path) {
  std::deque<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  out.insert(out.begin(), parts.begin(), parts.end());
}

int fail(int err) {
  errno = err;
  return -1;
}

// The O_NOFOLLOW walk: every component is opened without following; a symlink is read
// and its target spliced into the remaining path, resolved against the folders we hold
// open, so that ".." can never climb above `dirfd` and a swapped-in link is never
// followed by the kernel behind our back.
int walk_open(int dirfd, const std::string& rel, int flags, mode_t mode) {
  std::vector<Fd> stack;
  stack.emplace_back(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!stack.back()) return -1;
  std::deque<std::string> todo;
  split_into(todo, rel);
  int links = 0;
  auto follow = [&](const std::string& target) {
    if (++links > kMaxSymlinks) return fail(ELOOP);
    if (target.empty()) return fail(ENOENT);
    if (target[0] == '/') return fail(EXDEV);
    split_into(todo, target);
    return 0;
  };
  char buf[4096];
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      if (stack.size() == 1) return fail(EXDEV);
      stack.pop_back();
      continue;
    }
    int top = stack.back().get();
    if (todo.empty()) {
      int fd = ::openat(top, comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
      bool is_link = false;
      if (fd >= 0 && (flags & O_PATH)) {
        struct stat st {};
        is_link = ::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
        if (is_link) ::close(fd);
      } else if (fd < 0 && (errno == ELOOP || (errno == ENOTDIR && (flags & O_DIRECTORY)))) {
        // O_NOFOLLOW meets a symlink: ELOOP, or ENOTDIR when a folder was asked for.
        struct stat st {};
        is_link = errno == ELOOP ||
                  (::fstatat(top, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));
        if (!is_link) errno = ENOTDIR;
      }
      if (!is_link) return fd;
      if (flags & O_NOFOLLOW) return fail(ELOOP);
      ssize_t n = ::readlinkat(top, comp.c_str(), buf, sizeof buf);
      if (n < 0) {
        if (errno != EINVAL) return -1;
        todo.push_front(comp);  // swapped back to a non-link meanwhile: look again
        if (++links > kMaxSymlinks) return fail(ELOOP);
        continue;
      }
      if (follow(std::string(buf, static_cast<size_t>(n))) < 0) return -1;
      continue;
    }
    Fd next(::openat(top, comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    struct stat st {};
    if (::fstat(next.get(), &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) {
      stack.push_back(std::move(next));
    } else if (S_ISLNK(st.st_mode)) {
      ssize_t n = ::readlinkat(next.get(), "", buf, sizeof buf);
      if (n < 0) return -1;
      if (follow(std::string(buf, static_cast<size_t>(n))) < 0) return -1;
    } else {
      return fail(ENOTDIR);
    }
  }
  return ::openat(stack.back().get(), ".", flags | O_CLOEXEC, mode);
}

}  // namespace

Resolver active_resolver() {
  static const Resolver detected = probe();
  int f = forced.load();
  return f >= 0 ? static_cast<Resolver>(f) : detected;
}

void force_resolver(std::optional<Resolver> resolver) {
  forced.store(resolver ? static_cast<int>(*resolver) : -1);
}

int open_beneath(int dirfd, const std::string& rel, int flags, mode_t mode) {
  if (active_resolver() == Resolver::walk) return walk_open(dirfd, rel, flags, mode);
  const char* p = rel.empty() ? "." : rel.c_str();
  // With RESOLVE_BENEATH the kernel answers EAGAIN when a rename or mount anywhere on the
  // machine raced a ".." step; a retry usually wins, and the walk is as safe when it doesn't.
  for (int attempt = 0; attempt < kEagainRetries; ++attempt) {
    long fd = sys_openat2(dirfd, p, flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
  }
  return walk_open(dirfd, rel, flags, mode);
}

}  // namespace dsv4::sandbox
