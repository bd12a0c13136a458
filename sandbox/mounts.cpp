#include "sandbox/mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "sandbox/fd.hpp"
#include "sandbox/resolve.hpp"
#include "sandbox/setup_failure.hpp"

namespace dsv4::sandbox {
namespace fs = std::filesystem;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A detached copy of the mount tree at `path` (taken before the root turns read-only
// and before /tmp and /dev are replaced, so that it can be attached again later).
Fd clone_tree(const std::string& path, int dirfd = AT_FDCWD, unsigned extra = 0) {
  Fd fd(::open_tree(dirfd, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | extra));
  if (!fd) die("cannot take a copy of the mount at '" + path + "'");
  return fd;
}

void set_attr(int fd, const char* path, unsigned flags, std::uint64_t set, std::uint64_t clear,
              const std::string& shown) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clear;
  if (::mount_setattr(fd, path, flags, &attr, sizeof attr) != 0)
    die("cannot change the mount flags of '" + shown + "'");
}

void set_tree_attr(const Fd& tree, bool read_only, const std::string& shown) {
  set_attr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE,
           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0), 0, shown);
  // Only the top: a read-only mount below a writable one may be locked by the kernel.
  if (!read_only) set_attr(tree.get(), "", AT_EMPTY_PATH, 0, MOUNT_ATTR_RDONLY, shown);
}

// Creates the folders of `path` that are missing (possible only inside our tmpfs mounts)
// and, when `file`, an empty file at the end to mount a file on.
void make_mountpoint(const std::string& path, bool file) {
  if (exists(path)) return;
  fs::path p(path);
  std::string so_far;
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (*it == "/") continue;
    so_far += "/" + it->string();
    bool last = std::next(it) == p.end();
    if (exists(so_far)) continue;
    int rc = (last && file) ? ::open(so_far.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)
                            : ::mkdir(so_far.c_str(), 0755);
    if (rc < 0) die("cannot create the mount point '" + so_far + "'");
    if (last && file) ::close(rc);
  }
}

void attach(const Fd& tree, const std::string& path) {
  if (::move_mount(tree.get(), "", AT_FDCWD, path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    die("cannot mount at '" + path + "'");
}

void mount_tmpfs(const std::string& path, const std::string& options, unsigned long flags = 0) {
  if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | flags, options.c_str()) != 0)
    die("cannot mount a private tmpfs at '" + path + "'");
}

struct Tree {
  std::string path;
  bool file;
  bool read_only;
  Fd fd;
};

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};
// Kernel knobs in a fresh /proc that root (even without capabilities) could still write.
constexpr const char* kProcReadOnly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs",
                                         "kcore", "keys", "timer_list", "acpi", "scsi"};

class Setup {
 public:
  Setup(const Policy& policy, const std::string& root) : policy_(policy), root_(root) {}

  // Runs in the new namespaces, as PID 1, before the command.
  void mounts() {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      die("cannot make the mounts private");
    take_copies();
    // Everything we did not copy above becomes read-only, no setuid, no device nodes.
    set_attr(AT_FDCWD, "/", AT_RECURSIVE,
             MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, "/");
    hide();
    make_dev();
    std::sort(trees_.begin(), trees_.end(),
              [](const Tree& a, const Tree& b) { return a.path.size() < b.path.size(); });
    for (auto& t : trees_) {
      make_mountpoint(t.path, t.file);
      attach(t.fd, t.path);
    }
    if (policy_.mode != Mode::read_only) protect();
    make_proc();
  }

 private:
  void add_tree(const std::string& given, bool read_only) {
    std::error_code ec;
    auto path = fs::canonical(given, ec).string();
    struct stat st {};
    if (ec || ::stat(path.c_str(), &st) != 0) die("the sandbox path '" + given + "' does not exist");
    Fd fd = clone_tree(path);
    set_tree_attr(fd, read_only, path);
    trees_.push_back({path, !S_ISDIR(st.st_mode), read_only, std::move(fd)});
  }

  void take_copies() {
    for (const auto& p : policy_.readable) add_tree(p, true);
    for (const auto& p : policy_.writable) add_tree(p, false);
    add_tree(root_, policy_.mode == Mode::read_only);
    for (const char* d : kDevices)
      if (exists(std::string("/dev/") + d)) devices_.emplace_back(d, clone_tree(std::string("/dev/") + d));
  }

  // Private /tmp, /var/tmp and /run (sockets of host services live there), and the
  // policy's hidden paths replaced by something empty.
  void hide() {
    auto tmp_size = std::to_string(std::min<std::uint64_t>(
        policy_.limits.memory_bytes ? policy_.limits.memory_bytes : 1ull << 30, 4ull << 30));
    for (const char* d : {"/tmp", "/var/tmp"})
      if (exists(d)) mount_tmpfs(d, "mode=1777,size=" + tmp_size);
    if (exists("/run")) mount_tmpfs("/run", "mode=755,size=16m");
    for (const auto& h : policy_.hidden) {
      struct stat st {};
      if (::stat(h.c_str(), &st) != 0) continue;  // a symlink hides what it points to
      if (S_ISDIR(st.st_mode)) {
        mount_tmpfs(h, "mode=000,size=4k", MS_RDONLY);
      } else {
        Fd empty = clone_tree("/dev/null");
        set_tree_attr(empty, true, h);
        if (::move_mount(empty.get(), "", AT_FDCWD, h.c_str(),
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0)
          die("cannot hide '" + h + "'");
      }
    }
  }

  // A minimal /dev: a few harmless devices, never the host's disks.
  void make_dev() {
    mount_tmpfs("/dev", "mode=755,size=64k", MS_NOEXEC);
    for (auto& [name, tree] : devices_) {
      auto path = "/dev/" + name;
      make_mountpoint(path, true);
      attach(tree, path);
    }
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "/dev/fd"},
                                                         {"/proc/self/fd/0", "/dev/stdin"},
                                                         {"/proc/self/fd/1", "/dev/stdout"},
                                                         {"/proc/self/fd/2", "/dev/stderr"},
                                                         {"pts/ptmx", "/dev/ptmx"}};
    for (auto [target, link] : links)
      if (::symlink(target, link) != 0) die(std::string("cannot create ") + link);
    if (::mkdir("/dev/shm", 01777) != 0 || ::mkdir("/dev/pts", 0755) != 0)
      die("cannot create /dev/shm or /dev/pts");
    mount_tmpfs("/dev/shm", "mode=1777,size=64m");
    // Pseudo-terminals of our own; without them a command simply gets no pty.
    ::mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=620");
  }

  // Protected paths stay read-only inside the writable workspace. Each folder on the
  // way to one is made a mount point too, so that it cannot be renamed away (mv .git x)
  // and recreated without the protection. A missing protected path whose parent exists
  // is created empty first (a folder when written with a trailing '/'), so that nothing
  // can be planted there. A symlink at any of these places makes us refuse to run.
  void protect() {
    Fd root(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) die("cannot open the workspace " + root_);
    for (const auto& spec : policy_.protected_paths) {
      bool want_dir = spec.ends_with('/');
      auto rel = fs::path(spec).lexically_normal().generic_string();
      while (rel.ends_with('/')) rel.pop_back();
      if (rel.empty() || rel == "." || rel.starts_with("..") || rel.starts_with("/"))
        die("protected path '" + spec + "' is not inside the workspace", 0);
      std::string so_far;
      size_t start = 0;
      bool missing = false;
      while (!missing) {
        size_t end = rel.find('/', start);
        bool last = end == std::string::npos;
        so_far = rel.substr(0, last ? rel.size() : end);
        int fd = open_beneath(root.get(), so_far, O_PATH | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
          if (!last) missing = true;  // its parent is missing: nothing there to plant in
          else fd = create_placeholder(root.get(), so_far, want_dir);
          if (missing) break;
        }
        if (fd < 0) die("cannot open the protected path '" + so_far + "'");
        Fd entry(fd);
        struct stat st {};
        if (::fstat(entry.get(), &st) != 0) die("cannot stat '" + so_far + "'");
        if (S_ISLNK(st.st_mode))
          die("the protected path '" + so_far +
                  "' is a symlink; replace it by a real file or folder (or remove it)", 0);
        if (!last && !S_ISDIR(st.st_mode)) break;  // e.g. .git is a file (a worktree)
        Fd tree(::open_tree(entry.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                                 AT_EMPTY_PATH));
        if (!tree) die("cannot copy the mount of '" + so_far + "'");
        set_tree_attr(tree, last, so_far);
        if (::move_mount(tree.get(), "", entry.get(), "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
          die("cannot protect '" + so_far + "'");
        if (last) break;
        start = end + 1;
      }
    }
  }

  int create_placeholder(int rootfd, const std::string& rel, bool dir) {
    auto slash = rel.rfind('/');
    Fd parent(open_beneath(rootfd, slash == std::string::npos ? "" : rel.substr(0, slash),
                           O_PATH | O_DIRECTORY | O_NOFOLLOW));
    if (!parent) die("cannot open the parent of the protected path '" + rel + "'");
    auto name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    int rc = dir ? ::mkdirat(parent.get(), name.c_str(), 0755)
                 : ::openat(parent.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (rc < 0 && errno != EEXIST) die("cannot create the protected path '" + rel + "'");
    if (!dir && rc >= 0) ::close(rc);
    return ::openat(parent.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }

  void make_proc() {
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      die("cannot mount a fresh /proc");
    for (const char* name : kProcReadOnly) {
      auto path = std::string("/proc/") + name;
      if (!exists(path)) continue;
      Fd tree = clone_tree(path);
      set_tree_attr(tree, true, path);
      attach(tree, path);
    }
  }

  const Policy& policy_;
  std::string root_;
  std::vector<Tree> trees_;
  std::vector<std::pair<std::string, Fd>> devices_;
};

}  // namespace

void build_mounts(const Policy& policy, const std::string& root) { Setup(policy, root).mounts(); }

}  // namespace dsv4::sandbox
