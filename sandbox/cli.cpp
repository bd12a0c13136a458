#include "sandbox/cli.hpp"

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "sandbox/isolate.hpp"
#include "sandbox/policy.hpp"
#include "sandbox/probe.hpp"
#include "sandbox/resolve.hpp"
#include "sandbox/restrict.hpp"

namespace dsv4::sandbox {
namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "usage: dsv4 sandbox check [--quiet]\n"
    "Prints which isolation this machine supports for commands (namespaces, read-only\n"
    "root, fresh /proc, seccomp) and runs one trial command in the sandbox. Exit code 0\n"
    "when commands can be isolated, 1 when they cannot (then shell commands are refused\n"
    "unless --no-sandbox is given). --quiet prints only the reason of a failure.\n";

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Enters a user namespace mapped to ourselves (the first step of every other probe).
std::string enter_user_namespace() {
  auto uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  if (::unshare(CLONE_NEWUSER) != 0) return errno_text("unshare(CLONE_NEWUSER)");
  auto put = [](const char* path, const std::string& text) {
    FILE* f = std::fopen(path, "w");
    bool ok = f && std::fputs(text.c_str(), f) >= 0;
    if (f) ok = std::fclose(f) == 0 && ok;
    return ok;
  };
  if (!put("/proc/self/setgroups", "deny") || !put("/proc/self/uid_map", uid + " " + uid + " 1") ||
      !put("/proc/self/gid_map", gid + " " + gid + " 1"))
    return errno_text("writing the user namespace's id maps");
  return "";
}

std::string namespaces(int flags) {
  if (auto e = enter_user_namespace(); !e.empty()) return e;
  return ::unshare(flags) == 0 ? "" : errno_text("unshare");
}

std::string read_only_root() {
  if (auto e = namespaces(CLONE_NEWNS); !e.empty()) return e;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno_text("mount");
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) != 0)
    return errno_text("mount_setattr");
  return "";
}

std::string fresh_proc() {
  if (auto e = namespaces(CLONE_NEWNS | CLONE_NEWPID); !e.empty()) return e;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno_text("mount");
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(::mount("proc", "/proc", "proc", 0, nullptr) == 0 ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "" : "mounting proc in a PID namespace failed";
}

std::string seccomp() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_text("PR_SET_NO_NEW_PRIVS");
  return install_seccomp_filter();
}

// A real run of the launcher on a scratch workspace: the answer that counts.
std::string trial() {
  char dir[] = "/tmp/dsv4-sandbox-check-XXXXXX";
  if (!::mkdtemp(dir)) return errno_text("mkdtemp");
  auto answer = in_child([&]() -> std::string {
    if (::chdir(dir) != 0) return errno_text("chdir");
    Policy policy;
    policy.limits.wall_seconds = 20;
    int rc = run_isolated(policy, dir, {"/bin/sh", "-c", "exit 0"});
    return rc == 0 ? "" : "the trial command exited with " + std::to_string(rc);
  });
  std::error_code ec;
  fs::remove_all(dir, ec);
  return answer;
}

int check(bool quiet) {
  if (quiet) {
    auto err = trial();
    if (!err.empty()) std::cerr << err << "\n";
    return err.empty() ? 0 : 1;
  }
  struct Probe {
    const char* name;
    std::string (*run)();
  };
  const Probe probes[] = {
      {"user namespace", [] { return namespaces(0); }},
      {"mount namespace", [] { return namespaces(CLONE_NEWNS); }},
      {"PID namespace", [] { return namespaces(CLONE_NEWPID); }},
      {"network namespace", [] { return namespaces(CLONE_NEWNET); }},
      {"IPC and UTS namespaces", [] { return namespaces(CLONE_NEWIPC | CLONE_NEWUTS); }},
      {"read-only root (mount_setattr)", read_only_root},
      {"fresh /proc", fresh_proc},
      {"no_new_privs + seccomp filter", seccomp},
  };
  for (const auto& p : probes) {
    auto err = in_child(p.run);
    std::cout << (err.empty() ? "  yes  " : "  no   ") << p.name
              << (err.empty() ? "" : " (" + err + ")") << "\n";
  }
  std::cout << "  " << (active_resolver() == Resolver::openat2 ? "yes  " : "no   ")
            << "openat2 RESOLVE_BENEATH for file tools"
            << (active_resolver() == Resolver::openat2 ? "" : " (using the O_NOFOLLOW walk)") << "\n";
  auto err = trial();
  if (err.empty()) {
    std::cout << "commands: isolated (a trial command ran in the sandbox)\n";
    return 0;
  }
  std::cout << "commands: NOT isolated: " << err
            << "\n  shell commands are refused unless --no-sandbox is given\n";
  return 1;
}

int exec(const std::vector<std::string>& args) {
  std::string policy_json;
  size_t i = 0;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--policy" && i + 1 < args.size()) {
      policy_json = args[++i];
    } else {
      std::cerr << "dsv4 sandbox exec: unexpected '" << args[i] << "'\n";
      return 125;
    }
  }
  if (i == args.size() || policy_json.empty()) {
    std::cerr << "dsv4 sandbox exec: usage: dsv4 sandbox exec --policy JSON -- COMMAND...\n";
    return 125;
  }
  fs::path root;
  Policy policy;
  try {
    policy = policy_from_json(policy_json, root);
  } catch (const std::exception& e) {
    std::cerr << "dsv4 sandbox exec: bad --policy: " << e.what() << "\n";
    return 125;
  }
  return run_isolated(policy, root, {args.begin() + static_cast<long>(i) + 1, args.end()});
}

}  // namespace

int sandbox_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "check") {
    bool quiet = args.size() > 1 && args[1] == "--quiet";
    if (args.size() > (quiet ? 2u : 1u)) {
      std::cerr << "dsv4 sandbox check: unexpected '" << args.back() << "'\n";
      return 2;
    }
    return check(quiet);
  }
  if (args[0] == "exec") return exec({args.begin() + 1, args.end()});
  std::cerr << "dsv4 sandbox: unknown subcommand '" << args[0] << "'; see 'dsv4 sandbox --help'\n";
  return 2;
}

}  // namespace dsv4::sandbox
