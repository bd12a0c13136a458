#include "sandbox/workspace.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace dsv4::sandbox {
namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// openat2 confined beneath `dirfd`; symlinks are followed only while they stay inside.
int open_beneath(int dirfd, const std::string& rel, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, p, &how, sizeof how);
    if (fd >= 0 || errno != EINTR) return static_cast<int>(fd);
  }
}

}  // namespace

Workspace::Workspace(const fs::path& root) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec || !fs::is_directory(root_))
    throw std::invalid_argument("workspace root '" + root.string() +
                                "' is not an existing folder");
  root_fd_ = Fd(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_)
    throw std::runtime_error("cannot open workspace root '" + root_.string() +
                             "': " + errno_text(errno));
}

std::string Workspace::relative(std::string_view path) const {
  if (path.find('\0') != std::string_view::npos)
    throw AccessDenied("path contains a NUL byte");
  fs::path p(path);
  if (p.is_absolute()) {
    auto rel = p.lexically_normal().lexically_relative(root_);
    if (rel.empty() || *rel.begin() == "..")
      throw AccessDenied("'" + std::string(path) + "' is outside the workspace " +
                         root_.string() + "; use a path inside it");
    p = rel;
  }
  auto norm = p.lexically_normal().generic_string();
  if (norm == "." || norm == "./") return "";
  if (norm.ends_with('/')) norm.pop_back();
  if (norm == ".." || norm.starts_with("../"))
    throw AccessDenied("'" + std::string(path) +
                       "' leaves the workspace through '..'; use a path inside " +
                       root_.string());
  return norm;
}

fs::path Workspace::absolute(std::string_view path) const {
  auto rel = relative(path);
  return rel.empty() ? root_ : root_ / rel;
}

static Fd open_checked(int rootfd, const std::string& rel, int flags, mode_t mode,
                       std::string_view shown) {
  int fd = open_beneath(rootfd, rel, flags, mode);
  if (fd < 0) {
    int err = errno;
    if (err == EXDEV)
      throw AccessDenied("'" + std::string(shown) +
                         "' resolves outside the workspace (through a symlink); "
                         "refused");
    if (err == ELOOP)
      throw std::system_error(err, std::generic_category(),
                              "cannot open '" + std::string(shown) +
                                  "', a symlink loop or too long a chain of symlinks");
    throw std::system_error(err, std::generic_category(),
                            "cannot open '" + std::string(shown) + "'");
  }
  return Fd(fd);
}

Fd Workspace::open_read(std::string_view path) const {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; reads of files are unaffected.
  return open_checked(root_fd_.get(), relative(path), O_RDONLY | O_NONBLOCK, 0, path);
}

Fd Workspace::open_dir(std::string_view path) const {
  return open_checked(root_fd_.get(), relative(path), O_RDONLY | O_DIRECTORY, 0, path);
}

bool Workspace::stat(std::string_view path, struct ::stat& out) const {
  auto rel = relative(path);
  if (rel.empty()) return ::fstat(root_fd_.get(), &out) == 0;
  auto slash = rel.rfind('/');
  Fd parent;
  try {
    parent = open_checked(root_fd_.get(), slash == std::string::npos ? "" : rel.substr(0, slash),
                          O_PATH | O_DIRECTORY, 0, path);
  } catch (const std::system_error& e) {
    if (e.code().value() == ENOENT) return false;  // a missing folder holds nothing
    throw;
  }
  auto name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (::fstatat(parent.get(), name.c_str(), &out, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  throw std::system_error(errno, std::generic_category(),
                          "cannot stat '" + std::string(path) + "'");
}

// Creates each missing folder of `rel_dir` beneath the root; returns the folder's fd.
static Fd make_parents(int rootfd, const std::string& rel_dir, std::string_view shown) {
  Fd dir(::dup(rootfd));
  if (rel_dir.empty()) return dir;
  std::string so_far;
  size_t start = 0;
  while (start <= rel_dir.size()) {
    auto end = rel_dir.find('/', start);
    if (end == std::string::npos) end = rel_dir.size();
    auto part = rel_dir.substr(start, end - start);
    so_far += (so_far.empty() ? "" : "/") + part;
    if (::mkdirat(dir.get(), part.c_str(), 0777) != 0 && errno != EEXIST)
      throw std::system_error(errno, std::generic_category(),
                              "cannot create folder '" + so_far + "' for '" +
                                  std::string(shown) + "'");
    dir = open_checked(dir.get(), part, O_PATH | O_DIRECTORY, 0, shown);
    start = end + 1;
  }
  return dir;
}

void Workspace::write_atomic(std::string_view path, std::string_view content) const {
  auto rel = relative(path);
  if (rel.empty()) throw AccessDenied("cannot write to the workspace root itself");
  auto slash = rel.rfind('/');
  auto dir_rel = slash == std::string::npos ? std::string() : rel.substr(0, slash);
  auto name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  Fd dir = make_parents(root_fd_.get(), dir_rel, path);

  mode_t mode = 0644;
  struct ::stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      // Renaming onto the link would replace the link; write its (confined) target.
      Fd target = open_checked(root_fd_.get(), rel, O_PATH, 0, path);
      auto real = fs::read_symlink("/proc/self/fd/" + std::to_string(target.get()));
      return write_atomic(real.string(), content);
    }
    if (S_ISDIR(st.st_mode))
      throw std::runtime_error("'" + std::string(path) + "' is a folder, not a file");
    mode = st.st_mode & 07777;
  }

  std::random_device rd;
  auto tmp = "." + name + ".dsv4-" + std::to_string(rd()) + ".tmp";
  Fd out(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600));
  if (!out)
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a temporary file beside '" + std::string(path) + "'");
  auto fail = [&](const char* what) {
    int err = errno;
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    throw std::system_error(err, std::generic_category(),
                            std::string(what) + " '" + std::string(path) + "'");
  };
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(out.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fchmod(out.get(), mode) != 0) fail("cannot set the mode of");
  if (::fsync(out.get()) != 0) fail("cannot flush");
  out.reset();
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) fail("cannot replace");
}

void Workspace::remove_file(std::string_view path) const {
  auto rel = relative(path);
  if (rel.empty()) throw AccessDenied("cannot remove the workspace root");
  auto slash = rel.rfind('/');
  Fd dir = open_checked(root_fd_.get(), slash == std::string::npos ? "" : rel.substr(0, slash),
                        O_PATH | O_DIRECTORY, 0, path);
  auto name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot remove '" + std::string(path) + "'");
}

std::vector<std::string> Workspace::command_argv(std::vector<std::string> argv) const {
  return argv;
}

}  // namespace dsv4::sandbox
