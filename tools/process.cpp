// Boost.Process starts the child; the waiting is ours: poll() on the output pipe, a pidfd
// for the main process's exit and an eventfd for the stop token, so that nothing spins
// and every end (exit, timeout, stop) is noticed at once.
#include "tools/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/search_path.hpp>
#include <boost/process/start_dir.hpp>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "sandbox/fd.hpp"

namespace dsv4::tools {
namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;
using sandbox::Fd;
using std::chrono::milliseconds;

// Runs in the child between fork and exec (only async-signal-safe calls).
struct ChildSetup : bp::extend::handler {
  char** envp;

  template <class Executor>
  void on_setup(Executor& exec) const {
    exec.env = envp;
  }

  template <class Executor>
  void on_exec_setup(Executor&) const {
    // Own session: a process group to end as a whole, and no controlling terminal, so
    // that password prompts fail at once instead of waiting for a tty.
    ::setsid();
    // The forking thread waits for this process, so its death means ours.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Dispositions and masks survive exec: a parent that ignores SIGPIPE or blocks
    // SIGTERM in its worker threads must not pass that on.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Descriptors other threads opened without O_CLOEXEC (another command's pipe) must
    // not leak into this command and keep that pipe open. Boost's own error pipe stays
    // usable until exec.
    if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
      for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
};

// How many live processes other than `leader` are in the process group it leads.
int count_group(pid_t leader) {
  int count = 0;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return 0;
  while (const dirent* e = ::readdir(proc.get())) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == leader) continue;
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')', so parse after
    // the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == leader && state != 'Z' && state != 'X') ++count;
  }
  return count;
}

// True once `pid` has exited; leaves it unreaped so that its pid, and with it the
// process group id, cannot be reused while we still signal the group.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string signal_name(int signal) {
  if (const char* abbrev = ::sigabbrev_np(signal)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signal);
}

ProcessEnd run_process(const ProcessSpec& spec, std::stop_token stop, const OutputSink& sink,
                       const Tick& tick) {
  if (spec.argv.empty()) throw std::invalid_argument("run_process: empty argv");
  const auto started = Clock::now();
  boost::filesystem::path exe = spec.argv[0];
  if (spec.argv[0].find('/') == std::string::npos) {
    exe = bp::search_path(spec.argv[0]);
    if (exe.empty())
      throw std::runtime_error("cannot run '" + spec.argv[0] + "': not found in PATH");
  }

  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot create the output pipe");
  bp::pipe out(ends[0], ends[1]);  // owns both ends; Boost closes our copy of the write end
  std::vector<char*> envp = c_strings(spec.env);
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());
  bp::child child;
  try {
    child = bp::child(bp::exe = exe, bp::args = args, bp::start_dir = spec.cwd.string(),
                      bp::std_in<bp::null, (bp::std_out & bp::std_err)> out,
                      ChildSetup{{}, envp.data()});
  } catch (const std::system_error& e) {
    throw std::runtime_error("cannot start '" + spec.argv[0] + "' in '" + spec.cwd.string() +
                             "': " + e.what());
  }
  const pid_t pid = child.id();
  const int out_fd = out.native_source();
  ::fcntl(out_fd, F_SETFL, ::fcntl(out_fd, F_GETFL) | O_NONBLOCK);
  Fd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // may be absent
  Fd wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  std::stop_callback on_stop(stop, [&] {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd.get(), &one, sizeof one);
  });

  ProcessEnd end;
  enum class Phase { running, lingering, ending } phase = Phase::running;
  Clock::time_point phase_deadline = Clock::time_point::max();
  bool pipe_open = true, exited = false;
  auto next_tick = started + std::chrono::seconds(1);
  auto begin_ending = [&](Clock::time_point now) {
    ::kill(-pid, SIGTERM);
    phase = Phase::ending;
    phase_deadline = now + spec.kill_grace;
  };
  auto read_output = [&] {
    char buf[65536];
    // Bounded per round so that a flood of output cannot starve the deadline checks.
    for (int round = 0; round < 16 && pipe_open; ++round) {
      ssize_t n = ::read(out_fd, buf, sizeof buf);
      if (n > 0) {
        sink(std::string_view(buf, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        pipe_open = false;
      } else if (errno == EAGAIN) {
        break;
      }
    }
  };

  try {
    for (;;) {
      auto now = Clock::now();
      if (!exited) exited = has_exited(pid);
      if (phase == Phase::running) {
        if (exited) {
          phase = Phase::lingering;
          phase_deadline = now + spec.linger;
        } else if (stop.stop_requested()) {
          end.stopped = true;
          begin_ending(now);
        } else if (spec.timeout && now - started >= *spec.timeout) {
          end.timed_out = true;
          begin_ending(now);
        }
      }
      if (phase == Phase::lingering &&
          (!pipe_open || now >= phase_deadline || stop.stop_requested())) {
        end.leftovers = count_group(pid);
        if (end.leftovers == 0) break;
        begin_ending(now);
      }
      if (phase == Phase::ending && ((exited && count_group(pid) == 0) || now >= phase_deadline)) {
        ::kill(-pid, SIGKILL);
        break;
      }

      auto wait_until = std::min(next_tick, phase_deadline);
      if (phase == Phase::running && spec.timeout)
        wait_until = std::min(wait_until, started + *spec.timeout);
      // Without a pidfd (old kernels, seccomp) the exit is found by polling; while ending,
      // the group's members are counted every 50 ms.
      if (phase == Phase::ending || (!exited && !exit_fd))
        wait_until = std::min(wait_until, now + milliseconds(50));
      pollfd fds[3] = {{pipe_open ? out_fd : -1, POLLIN, 0},
                       {exited ? -1 : exit_fd.get(), POLLIN, 0},
                       {stop.stop_requested() ? -1 : wake_fd.get(), POLLIN, 0}};
      auto wait_ms = std::chrono::ceil<milliseconds>(wait_until - now).count();
      ::poll(fds, 3, static_cast<int>(std::clamp<long long>(wait_ms, 0, 1000)));
      if (fds[0].revents) read_output();
      if (tick && Clock::now() >= next_tick) {
        tick(std::chrono::duration<double>(Clock::now() - started).count());
        next_tick += std::chrono::seconds(1);
      }
    }

  } catch (...) {
    ::kill(-pid, SIGKILL);
    child.wait();
    throw;
  }
  child.wait();
  // What the group wrote before it died is still in the pipe; take it without waiting
  // for writers that escaped the group.
  read_output();
  int status = child.native_exit_code();
  if (WIFEXITED(status)) end.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) end.signal = WTERMSIG(status);
  end.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return end;
}

}  // namespace dsv4::tools
