#include "sandbox/workspace.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "sandbox/launcher.hpp"
#include "sandbox/resolve.hpp"

namespace dsv4::sandbox {
namespace fs = std::filesystem;

namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::pair<std::string, std::string> split_parent(const std::string& rel) {
  auto slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

bool is_within(const std::string& rel, const std::string& base) {
  return rel == base || (rel.size() > base.size() && rel.starts_with(base) && rel[base.size()] == '/');
}

Fd open_checked(int dirfd, const std::string& rel, int flags, std::string_view shown) {
  int fd = open_beneath(dirfd, rel, flags);
  if (fd < 0) {
    int err = errno;
    if (err == EXDEV)
      throw AccessDenied("no-symlink-escape",
                         quoted(shown) + " resolves outside the workspace through a symlink; refused");
    if (err == ELOOP)
      throw AccessDenied("no-symlink-escape",
                         quoted(shown) + " leads into a symlink loop (or too long a chain of "
                                         "symlinks); refused");
    throw std::system_error(err, std::generic_category(), "cannot open " + quoted(shown));
  }
  return Fd(fd);
}

}  // namespace

Workspace::Workspace(const fs::path& root, Policy policy) : policy_(std::move(policy)) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec || !fs::is_directory(root_))
    throw std::invalid_argument("workspace root '" + root.string() +
                                "' is not an existing folder");
  root_fd_ = Fd(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_)
    throw std::runtime_error("cannot open workspace root '" + root_.string() +
                             "': " + std::strerror(errno));
  for (const auto& p : policy_.protected_paths) {
    auto norm = fs::path(p).lexically_normal().generic_string();
    while (norm.ends_with('/')) norm.pop_back();
    if (norm.empty() || norm == "." || fs::path(p).is_absolute() || norm == ".." ||
        norm.starts_with("../"))
      throw std::invalid_argument("protected path '" + p +
                                  "' must be a path inside the workspace, relative to its root");
    protected_.push_back(norm);
  }
}

std::string Workspace::relative(std::string_view path) const {
  if (path.find('\0') != std::string_view::npos)
    throw AccessDenied("no-nul", "the path contains a NUL byte");
  fs::path p(path);
  if (p.is_absolute()) {
    auto rel = p.lexically_normal().lexically_relative(root_);
    if (rel.empty() || *rel.begin() == "..")
      throw AccessDenied("beneath-root", quoted(path) + " is outside the workspace " +
                                             root_.string() + "; use a path inside it");
    p = rel;
  }
  auto norm = p.lexically_normal().generic_string();
  if (norm == "." || norm == "./") return "";
  if (norm.ends_with('/')) norm.pop_back();
  if (norm == ".." || norm.starts_with("../"))
    throw AccessDenied("beneath-root", quoted(path) + " leaves the workspace through '..'; "
                                                      "use a path inside " +
                                           root_.string());
  return norm;
}

fs::path Workspace::absolute(std::string_view path) const {
  auto rel = relative(path);
  return rel.empty() ? root_ : root_ / rel;
}

Fd Workspace::open_read(std::string_view path) const {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; reads of files are unaffected.
  return open_checked(root_fd_.get(), relative(path), O_RDONLY | O_NONBLOCK, path);
}

Fd Workspace::open_dir(std::string_view path) const {
  return open_checked(root_fd_.get(), relative(path), O_RDONLY | O_DIRECTORY, path);
}

bool Workspace::stat(std::string_view path, struct ::stat& out) const {
  auto rel = relative(path);
  if (rel.empty()) return ::fstat(root_fd_.get(), &out) == 0;
  auto [dir_rel, name] = split_parent(rel);
  Fd parent;
  try {
    parent = open_checked(root_fd_.get(), dir_rel, O_PATH | O_DIRECTORY, path);
  } catch (const std::system_error& e) {
    if (e.code().value() == ENOENT) return false;  // a missing folder holds nothing
    throw;
  }
  if (::fstatat(parent.get(), name.c_str(), &out, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  throw std::system_error(errno, std::generic_category(), "cannot stat " + quoted(path));
}

void Workspace::check_writable(const std::string& rel, std::string_view shown) const {
  if (policy_.mode == Mode::read_only)
    throw AccessDenied("read-only-mode",
                       "cannot change " + quoted(shown) +
                           ": the sandbox is in read-only mode; ask the user to allow "
                           "workspace-write");
  if (policy_.mode == Mode::full_access) return;
  for (const auto& p : protected_)
    if (is_within(rel, p))
      throw AccessDenied("protected-path",
                         "cannot change " + quoted(shown) + ": it is (or is inside) the "
                             "protected path '" + p + "', which only the user may change");
}

std::string Workspace::real_relative(int fd, std::string_view shown) const {
  char buf[PATH_MAX + 1];
  auto link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, PATH_MAX);
  if (n < 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot tell where " + quoted(shown) + " is (is /proc mounted?)");
  std::string real(buf, static_cast<size_t>(n));
  const std::string& root = root_.native();
  if (real == root) return "";
  if (root == "/") return real.substr(1);
  if (real.size() > root.size() && real.starts_with(root) && real[root.size()] == '/')
    return real.substr(root.size() + 1);
  throw AccessDenied("beneath-root", quoted(shown) + " is outside the workspace");
}

// Creates each missing folder of `rel_dir` beneath the root, refusing to create one in
// a protected place (also when reached through a symlink); returns the last folder.
Fd Workspace::make_parents(const std::string& rel_dir, std::string_view shown) const {
  Fd dir(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0));
  size_t start = 0;
  while (start < rel_dir.size()) {
    auto end = rel_dir.find('/', start);
    if (end == std::string::npos) end = rel_dir.size();
    auto part = rel_dir.substr(start, end - start);
    int fd = open_beneath(dir.get(), part, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      auto here = real_relative(dir.get(), shown);
      check_writable(here.empty() ? part : here + "/" + part, shown);
      if (::mkdirat(dir.get(), part.c_str(), 0777) != 0 && errno != EEXIST)
        throw std::system_error(errno, std::generic_category(),
                                "cannot create folder '" + rel_dir.substr(0, end) + "' for " +
                                    quoted(shown));
    } else if (fd >= 0) {
      ::close(fd);
    }
    dir = open_checked(dir.get(), part, O_PATH | O_DIRECTORY, shown);
    start = end + 1;
  }
  return dir;
}

void Workspace::write_atomic(std::string_view path, std::string_view content) const {
  auto rel = relative(path);
  if (rel.empty()) throw AccessDenied("beneath-root", "cannot write to the workspace root itself");
  check_writable(rel, path);
  struct ::stat st {};
  {
    // A symlink is written through: find its target (refused if it leaves the root).
    auto [dir_rel, name] = split_parent(rel);
    Fd parent(open_beneath(root_fd_.get(), dir_rel, O_PATH | O_DIRECTORY));
    if (!parent && errno != ENOENT) parent = open_checked(root_fd_.get(), dir_rel, O_PATH | O_DIRECTORY, path);
    if (parent && ::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      int fd = open_beneath(root_fd_.get(), rel, O_PATH);
      if (fd < 0 && errno == ENOENT)
        throw std::runtime_error(quoted(path) + " is a symlink to a missing file; write the "
                                 "target path itself");
      Fd target = fd >= 0 ? Fd(fd) : open_checked(root_fd_.get(), rel, O_PATH, path);
      rel = real_relative(target.get(), path);
    }
  }
  auto [dir_rel, name] = split_parent(rel);
  Fd dir = make_parents(dir_rel, path);
  auto real_dir = real_relative(dir.get(), path);
  check_writable(real_dir.empty() ? name : real_dir + "/" + name, path);

  mode_t mode = 0644;
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) throw std::runtime_error(quoted(path) + " is a folder, not a file");
    if (S_ISREG(st.st_mode)) mode = st.st_mode & 07777;
  }

  std::random_device rd;
  auto tmp = "." + name + ".dsv4-" + std::to_string(rd()) + ".tmp";
  Fd out(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600));
  if (!out)
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a temporary file beside " + quoted(path));
  auto fail = [&](const char* what) {
    int err = errno;
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    throw std::system_error(err, std::generic_category(), std::string(what) + " " + quoted(path));
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
  // rename never follows a link at `name`: whatever was swapped in there is replaced.
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) fail("cannot replace");
}

void Workspace::remove_file(std::string_view path) const {
  auto rel = relative(path);
  if (rel.empty()) throw AccessDenied("beneath-root", "cannot remove the workspace root");
  check_writable(rel, path);
  auto [dir_rel, name] = split_parent(rel);
  Fd dir = open_checked(root_fd_.get(), dir_rel, O_PATH | O_DIRECTORY, path);
  auto real_dir = real_relative(dir.get(), path);
  check_writable(real_dir.empty() ? name : real_dir + "/" + name, path);
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot remove " + quoted(path));
}

std::vector<std::string> Workspace::command_argv(std::vector<std::string> argv) const {
  if (policy_.commands_unisolated()) return argv;
  if (auto problem = isolation_problem(); !problem.empty())
    throw AccessDenied("isolation-required",
                       "commands cannot be isolated on this machine (" + problem +
                           "); 'dsv4 sandbox check' shows what is missing; the user may "
                           "pass --no-sandbox to run commands without isolation");
  std::vector<std::string> out{launcher_path().string(), "sandbox", "exec", "--policy",
                               policy_to_json(policy_, root_), "--"};
  out.insert(out.end(), std::make_move_iterator(argv.begin()),
             std::make_move_iterator(argv.end()));
  return out;
}

}  // namespace dsv4::sandbox
