// run_process with real bash processes: ordering, exit codes, stdin, timeouts and stops
// that must end whole process groups, and commands that misbehave with their output.
#include "tools/process.hpp"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.hpp"

extern char** environ;

using dsv4::tools::ProcessEnd;
using dsv4::tools::ProcessSpec;
using dsv4::tools::run_process;
using namespace std::chrono_literals;

namespace {

ProcessSpec bash(const std::string& script, const std::filesystem::path& cwd = "/") {
  ProcessSpec spec;
  spec.argv = {"bash", "-c", script};
  spec.cwd = cwd;
  for (char** e = environ; *e; ++e) spec.env.emplace_back(*e);
  return spec;
}

struct Captured {
  ProcessEnd end;
  std::string out;
};

Captured run(const ProcessSpec& spec, std::stop_token stop = {}) {
  Captured c;
  c.end = run_process(spec, stop, [&](std::string_view s) { c.out.append(s); });
  return c;
}

// Alive and not a zombie, read from /proc (a zombie still answers kill(pid, 0)).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

std::vector<pid_t> read_pids(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<pid_t> pids;
  for (pid_t p; in >> p;) pids.push_back(p);
  return pids;
}

}  // namespace

TEST_CASE("stdout and stderr arrive merged in the order they were written") {
  auto c = run(bash("echo a; echo b >&2; echo c"));
  CHECK(c.out == "a\nb\nc\n");
  std::string script, expected;
  for (int i = 1; i <= 300; ++i)
    expected += "out" + std::to_string(i) + "\nerr" + std::to_string(i) + "\n";
  auto many = run(bash("for i in $(seq 1 300); do echo out$i; echo err$i >&2; done"));
  CHECK(many.out == expected);
  CHECK(many.end.exit_code == 0);
}

TEST_CASE("exit codes and signals are reported as bash reports them") {
  CHECK(run(bash("exit 0")).end.exit_code == 0);
  CHECK(run(bash("exit 3")).end.exit_code == 3);
  CHECK(run(bash("false")).end.exit_code == 1);
  CHECK(run(bash("no_such_command_dsv4")).end.exit_code == 127);
  auto killed = run(bash("kill -KILL $$"));
  CHECK(killed.end.signal == SIGKILL);
  CHECK(dsv4::tools::signal_name(killed.end.signal) == "SIGKILL");
  CHECK(dsv4::tools::signal_name(SIGTERM) == "SIGTERM");
}

TEST_CASE("stdin is closed: cat ends at once") {
  auto spec = bash("cat; echo after-cat");
  spec.timeout = 10s;
  auto c = run(spec);
  CHECK_FALSE(c.end.timed_out);
  CHECK(c.out == "after-cat\n");
  CHECK(c.end.seconds < 5);
}

TEST_CASE("a timeout ends the whole process group, grandchildren included") {
  dsv4::test::TempDir dir;
  // bash, its child, and a child of a subshell: all must be gone afterwards.
  auto spec = bash(
      "echo $$ > pids; sleep 100 & echo $! >> pids; (sleep 100 & echo $! >> pids; wait) & "
      "sleep 100; wait",
      dir.path());
  spec.timeout = 1s;
  auto c = run(spec);
  CHECK(c.end.timed_out);
  CHECK(c.end.signal == SIGTERM);
  CHECK(c.end.seconds < 5);
  auto pids = read_pids(dir / "pids");
  REQUIRE(pids.size() == 3);
  for (pid_t p : pids) CHECK_FALSE(alive(p));
}

TEST_CASE("a group that ignores SIGTERM is killed after the grace period") {
  auto spec = bash("trap '' TERM; sleep 100");
  spec.timeout = 500ms;
  spec.kill_grace = 500ms;
  auto c = run(spec);
  CHECK(c.end.timed_out);
  CHECK(c.end.signal == SIGKILL);
  CHECK(c.end.seconds < 4);
}

TEST_CASE("a stop request ends the running command and its group") {
  dsv4::test::TempDir dir;
  std::stop_source source;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(300ms);
    source.request_stop();
  });
  auto c =
      run(bash("sleep 100 & echo $! > pid; echo waiting; wait", dir.path()), source.get_token());
  CHECK(c.end.stopped);
  CHECK_FALSE(c.end.timed_out);
  CHECK(c.out == "waiting\n");
  CHECK(c.end.seconds < 4);
  for (pid_t p : read_pids(dir / "pid")) CHECK_FALSE(alive(p));
  std::stop_source already;
  already.request_stop();
  CHECK(run(bash("sleep 100"), already.get_token()).end.stopped);
}

TEST_CASE("a command that closes its output keeps running until it exits") {
  auto closed = run(bash("exec >&- 2>&-; sleep 1.5; exit 7"));
  CHECK(closed.end.exit_code == 7);
  CHECK(closed.end.seconds >= 1.4);
  auto half = run(bash("exec >&-; echo on-stderr >&2; sleep 1; echo late >&2"));
  CHECK(half.out == "on-stderr\nlate\n");
  CHECK(half.end.exit_code == 0);
}

TEST_CASE("processes left holding the output are ended shortly after the command exits") {
  dsv4::test::TempDir dir;
  auto spec = bash("sleep 100 & echo $! > pid; (sleep 0.3; echo late) & echo started", dir.path());
  spec.timeout = 60s;
  spec.linger = 3s;  // ample for the quick one on a loaded machine
  auto c = run(spec);
  CHECK(c.end.exit_code == 0);
  CHECK_FALSE(c.end.timed_out);
  CHECK(c.end.leftovers == 1);  // the quick one printed and ended within the linger time
  CHECK(c.out == "started\nlate\n");
  CHECK(c.end.seconds < 8);
  for (pid_t p : read_pids(dir / "pid")) CHECK_FALSE(alive(p));
}

TEST_CASE("a daemon that leaves the group does not hold the call") {
  dsv4::test::TempDir dir;
  auto spec = bash("setsid sleep 100 & echo $! > pid; echo started", dir.path());
  spec.timeout = 60s;
  auto c = run(spec);
  CHECK(c.out == "started\n");
  CHECK(c.end.exit_code == 0);
  CHECK(c.end.seconds < 5);
  // It escaped the group (only the sandbox's launcher can hold it); end it here.
  for (pid_t p : read_pids(dir / "pid")) ::kill(p, SIGKILL);
}

TEST_CASE("large output streams through without loss") {
  uint64_t bytes = 0;
  auto end = run_process(bash("head -c 50000000 /dev/zero"), {},
                         [&](std::string_view s) { bytes += s.size(); });
  CHECK(end.exit_code == 0);
  CHECK(bytes == 50'000'000);
}

TEST_CASE("the working folder, the environment and the tick are the ones given") {
  dsv4::test::TempDir dir;
  std::filesystem::create_directory(dir / "with space");
  ProcessSpec spec = bash("pwd; echo \"$ONLY_THIS\"; env | wc -l; sleep 2.2", dir / "with space");
  spec.env = {"ONLY_THIS=value", "PATH=/usr/bin:/bin"};
  int ticks = 0;
  std::string out;
  auto end = run_process(
      spec, {}, [&](std::string_view s) { out.append(s); }, [&](double) { ++ticks; });
  CHECK(end.exit_code == 0);
  std::istringstream lines(out);
  std::string pwd, value, count;
  std::getline(lines, pwd);
  std::getline(lines, value);
  std::getline(lines, count);
  CHECK(pwd == (dir / "with space").string());
  CHECK(value == "value");
  CHECK(std::stoi(count) <= 5);  // ours plus what bash sets itself (PWD, SHLVL, _)
  CHECK(ticks >= 2);
}

TEST_CASE("a command that cannot start is an error naming it") {
  ProcessSpec spec = bash("true");
  spec.argv = {"/no/such/launcher"};
  CHECK_THROWS_WITH(run(spec), Catch::Contains("/no/such/launcher"));
  spec.argv = {"no-such-program-dsv4"};
  CHECK_THROWS_WITH(run(spec), Catch::Contains("not found in PATH"));
  spec = bash("true", "/no/such/folder");
  CHECK_THROWS_WITH(run(spec), Catch::Contains("/no/such/folder"));
}
