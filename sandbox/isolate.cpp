#include "sandbox/isolate.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "sandbox/fd.hpp"
#include "sandbox/mounts.hpp"
#include "sandbox/restrict.hpp"
#include "sandbox/setup_failure.hpp"

extern char** environ;

namespace dsv4::sandbox {
namespace fs = std::filesystem;

void die(const std::string& what, int err) {
  std::string msg = "dsv4 sandbox: " + what + (err ? std::string(": ") + std::strerror(err) : "") +
                    "; the command was not run\n";
  [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
  ::_exit(125);
}

void note(const std::string& msg) {
  auto line = "dsv4 sandbox: " + msg + "\n";
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

namespace {

void write_file(const std::string& path, std::string_view text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    die("cannot write " + path);
}

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
  build_mounts(policy, root.string());
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
volatile sig_atomic_t g_stopped_by = 0;

void on_signal(int sig) {
  if (sig == SIGALRM) g_timed_out = 1;
  else g_stopped_by = sig;
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
  if (g_stopped_by) {
    // Die of the same signal, so that whoever stopped us sees a command killed by it.
    int sig = g_stopped_by;
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
  if (g_timed_out) {
    note("the command ran past the wall-time limit of " + std::to_string(policy.limits.wall_seconds) +
         " s and was killed [sandbox rule: limit-wall-time]");
    return 137;
  }
  return exit_code(status);
}

}  // namespace dsv4::sandbox
