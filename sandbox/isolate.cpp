#include "sandbox/isolate.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "sandbox/fd.hpp"
#include "sandbox/resolve.hpp"
#include "sandbox/restrict.hpp"

extern char** environ;

namespace dsv4::sandbox {
namespace fs = std::filesystem;

namespace {

// Setup failures end the process before the command runs: the sandbox fails closed.
[[noreturn]] void die(const std::string& what, int err = errno) {
  std::string msg = "dsv4 sandbox: " + what + (err ? std::string(": ") + std::strerror(err) : "") +
                    "; the command was not run\n";
  [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
  ::_exit(125);
}

void note(const std::string& msg) {
  auto line = "dsv4 sandbox: " + msg + "\n";
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

void write_file(const std::string& path, std::string_view text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    die("cannot write " + path);
}

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
  Setup(const Policy& policy, const fs::path& root) : policy_(policy), root_(root.string()) {}

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
      if (::lstat(h.c_str(), &st) != 0) continue;
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

void loopback_up() {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (!s || ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) die("cannot query the loopback device");
  ifr.ifr_flags |= IFF_UP;
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) die("cannot bring up the loopback device");
}

// Credentials, tokens and keys of the agent's environment stay outside.
bool secret_name(std::string_view name) {
  std::string upper(name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* word : {"KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"})
    if (upper.find(word) != std::string::npos) return true;
  return false;
}

[[noreturn]] void exec_command(const Policy& policy, const std::vector<std::string>& argv) {
  ::close_range(3, ~0U, 0);  // an inherited folder fd would be a way out
  std::vector<std::string> names;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    auto name = kv.substr(0, kv.find('='));
    if (secret_name(name)) names.emplace_back(name);
  }
  for (const auto& n : names) ::unsetenv(n.c_str());
  if (auto err = restrict_self(policy.limits); !err.empty()) die("cannot restrict the command: " + err, 0);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  ::execvp(cargv[0], cargv.data());
  int err = errno;
  note("cannot run '" + argv[0] + "': " + std::strerror(err));
  ::_exit(err == ENOENT ? 127 : 126);
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// PID 1 of the sandbox: runs the command, reaps orphans, and leaves with the command's
// status (the kernel then kills whatever is left in the namespace).
[[noreturn]] void init_main(const Policy& policy, const fs::path& root, const std::string& cwd,
                            const std::vector<std::string>& argv) {
  Setup(policy, root).mounts();
  if (::sethostname("dsv4-sandbox", 12) != 0) die("cannot set the host name");
  if (!policy.network) loopback_up();
  if (::chdir(cwd.c_str()) != 0) die("the working folder '" + cwd + "' is not visible in the sandbox");
  // The command runs as our uid: without this it could open /proc/1/fd/* and /proc/1/root
  // and reach whatever this process inherited.
  ::close_range(3, ~0U, 0);
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("cannot make the sandbox's init private");
  pid_t worker = ::fork();
  if (worker < 0) die("cannot fork");
  if (worker == 0) exec_command(policy, argv);
  int status = 0;
  for (;;) {
    pid_t p = ::wait(&status);
    if (p == worker) break;
    if (p < 0 && errno != EINTR) die("wait failed");
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGXCPU || (sig == SIGKILL && policy.limits.cpu_seconds))
      note("the command was killed by signal " + std::to_string(sig) +
           (sig == SIGXCPU ? " at the cpu-time limit of " + std::to_string(policy.limits.cpu_seconds) +
                                 " s [sandbox rule: limit-cpu]"
                           : ""));
    if (sig == SIGXFSZ)
      note("the command wrote past the file-size limit of " +
           std::to_string(policy.limits.file_size_bytes) + " bytes [sandbox rule: limit-file-size]");
  }
  ::_exit(exit_code(status));
}

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_timed_out = 0;

void on_signal(int sig) {
  if (sig == SIGALRM) g_timed_out = 1;
  if (g_child > 0) ::kill(g_child, SIGKILL);  // PID 1 gone: the whole namespace goes
}

}  // namespace

int run_isolated(const Policy& policy, const fs::path& root, const std::vector<std::string>& argv) {
  if (argv.empty()) {
    note("no command given");
    return 125;
  }
  std::error_code ec;
  auto cwd = fs::current_path(ec);
  if (ec) cwd = root;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  // Our own user namespace even as root: capabilities then stop at its border and
  // RLIMIT_NPROC holds (it does not bind root in the initial namespace).
  if (::unshare(CLONE_NEWUSER) != 0) die("cannot create a user namespace");
  write_file("/proc/self/setgroups", "deny");
  write_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
  write_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (!policy.network) flags |= CLONE_NEWNET;
  if (::unshare(flags) != 0) die("cannot create the mount, PID, IPC, UTS and network namespaces");

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  for (int sig : {SIGALRM, SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  pid_t child = ::fork();
  if (child < 0) die("cannot fork");
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int sig : {SIGALRM, SIGTERM, SIGINT, SIGHUP}) ::signal(sig, SIG_DFL);
    init_main(policy, root, cwd.string(), argv);
  }
  g_child = child;
  if (policy.limits.wall_seconds) ::alarm(static_cast<unsigned>(policy.limits.wall_seconds));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  ::alarm(0);
  if (g_timed_out) {
    note("the command ran past the wall-time limit of " + std::to_string(policy.limits.wall_seconds) +
         " s and was killed [sandbox rule: limit-wall-time]");
    return 137;
  }
  return exit_code(status);
}

}  // namespace dsv4::sandbox
