#include "sandbox/restrict.hpp"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dsv4::sandbox {
namespace {

std::string failed(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// Calls that reach across the sandbox's walls (other processes, the kernel, mounts,
// namespaces) or enlarge the kernel surface it exposes; refused with EPERM.
constexpr const char* kRefused[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "unshare", "setns",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
    "init_module", "finit_module", "delete_module", "create_module",
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
    "keyctl", "add_key", "request_key",
    "open_by_handle_at", "name_to_handle_at",
    "iopl", "ioperm", "acct", "quotactl", "syslog", "lookup_dcookie", "nfsservctl",
    "uselib", "vhangup", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID,
                                             CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
                                             CLONE_NEWCGROUP, CLONE_NEWTIME};

std::string set_limit(int resource, rlim_t value, rlim_t hard) {
  if (value == 0) return "";
  // Never above the limits we were started with (raising them needs a privilege).
  struct rlimit now {};
  if (::getrlimit(resource, &now) != 0) return failed("getrlimit", errno);
  if (now.rlim_max != RLIM_INFINITY) hard = std::min(hard, now.rlim_max);
  struct rlimit r {std::min(value, hard), hard};
  if (::setrlimit(resource, &r) != 0) return failed("setrlimit", errno);
  return "";
}

std::string drop_capabilities() {
  // Without SECBIT_NOROOT, uid 0 would get its capabilities back at execve.
  if (::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                     SECBIT_NO_CAP_AMBIENT_RAISE |
                                     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) != 0)
    return failed("PR_SET_SECUREBITS", errno);
  for (int cap = 0; cap < 64; ++cap)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return failed("PR_CAPBSET_DROP", errno);
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return failed("PR_CAP_AMBIENT_CLEAR_ALL", errno);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) return failed("capset", errno);
  return "";
}

}  // namespace

std::string install_seccomp_filter() {
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return "seccomp_init failed";
  auto fail = [&](const std::string& what, int rc) {
    ::seccomp_release(ctx);
    return failed(what, -rc);
  };
  int rc;
  for (const char* name : kRefused) {
    int nr = ::seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if ((rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0)
      return fail(std::string("seccomp rule for ") + name, rc);
  }
  // New namespaces: clone with a CLONE_NEW* flag is refused; clone3 hides its flags in
  // memory a filter cannot read, so it answers ENOSYS and libc falls back to clone.
  for (unsigned long flag : kNamespaceFlags)
    if ((rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                 SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag))) < 0)
      return fail("seccomp rule for clone", rc);
  if ((rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
    return fail("seccomp rule for clone3", rc);
  // Typing into the terminal of whoever started us (TIOCSTI) or the console (TIOCLINUX).
  for (unsigned long request : {TIOCSTI, TIOCLINUX})
    if ((rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request))) < 0)
      return fail("seccomp rule for ioctl", rc);
  rc = ::seccomp_load(ctx);
  ::seccomp_release(ctx);
  return rc < 0 ? failed("seccomp_load", -rc) : "";
}

std::string restrict_self(const Limits& limits) {
  std::string err;
  auto cpu = static_cast<rlim_t>(limits.cpu_seconds);
  if (!(err = set_limit(RLIMIT_CPU, cpu, cpu + 1)).empty()) return "cpu " + err;
  auto mem = static_cast<rlim_t>(limits.memory_bytes);
  if (!(err = set_limit(RLIMIT_AS, mem, mem)).empty()) return "memory " + err;
  auto procs = static_cast<rlim_t>(limits.processes);
  if (!(err = set_limit(RLIMIT_NPROC, procs, procs)).empty()) return "processes " + err;
  auto fsize = static_cast<rlim_t>(limits.file_size_bytes);
  if (!(err = set_limit(RLIMIT_FSIZE, fsize, fsize)).empty()) return "file size " + err;
  struct rlimit no_core {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  if (!(err = drop_capabilities()).empty()) return err;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed("PR_SET_NO_NEW_PRIVS", errno);
  return install_seccomp_filter();
}

}  // namespace dsv4::sandbox
