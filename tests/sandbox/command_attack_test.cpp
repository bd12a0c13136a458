// Attacks by commands (what the shell tool runs): each runs through
// Workspace::command_argv and the real launcher, and must fail; the host must not notice.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sandbox/launcher.hpp"
#include "sandbox/workspace.hpp"
#include "tests/sandbox/sandboxed.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using dsv4::sandbox::AccessDenied;
using dsv4::sandbox::Mode;
using dsv4::sandbox::Policy;
using dsv4::sandbox::Workspace;
using dsv4::test::run_sandboxed;
using dsv4::test::TempDir;
using dsv4::test::tight_policy;

namespace {

// An outside folder on the root filesystem (visible, read-only inside), not under /tmp,
// which the sandbox replaces: in $HOME, since the checkout itself may lie under /tmp.
struct VisibleDir {
  fs::path path;
  VisibleDir() {
    const char* home = std::getenv("HOME");
    REQUIRE((home && *home == '/'));
    auto tmpl = (fs::path(home) / ".dsv4-test-outside-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    path = tmpl;
    std::ofstream(path / "file") << "outside";
  }
  ~VisibleDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A process outside the sandbox that the attacks aim at.
struct Bystander {
  pid_t pid;
  Bystander() {
    pid = ::fork();
    if (pid == 0) {
      ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  bool alive() const { return ::waitpid(pid, nullptr, WNOHANG) == 0 && ::kill(pid, 0) == 0; }
  ~Bystander() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

// Processes anywhere on the host whose command line holds `marker`.
int processes_with(const std::string& marker) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (name == std::to_string(::getpid())) continue;
    if (slurp(e.path() / "cmdline").find(marker) != std::string::npos) ++n;
  }
  return n;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("command attack: write outside the workspace through .., absolute paths and symlinks") {
  TempDir ws_dir, hidden_outside;
  VisibleDir visible;
  Workspace ws(ws_dir.path());
  auto rel = fs::relative(visible.path, ws_dir.path()).string();
  auto r = run_sandboxed(ws, "set +e\n"
                             "echo x > " + rel + "/pwned1\n"
                             "echo x > " + visible.path.string() + "/pwned2\n"
                             "echo x > " + visible.path.string() + "/file\n"
                             "echo x > " + hidden_outside.path().string() + "/pwned3\n"
                             "ln -s " + visible.path.string() + " direct && echo x > direct/pwned4\n"
                             "ln -s " + rel + " parent && echo x > parent/pwned5\n"
                             "echo x > /etc/dsv4-pwned; echo x > /usr/dsv4-pwned; echo x > ~/dsv4-pwned\n"
                             "echo x > /proc/1/root" + visible.path.string() + "/pwned6\n"
                             "mkdir " + visible.path.string() + "/d; echo survived\n");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("survived"));
  CHECK_THAT(r.err, Catch::Contains("Read-only file system"));
  CHECK(std::distance(fs::directory_iterator(visible.path), fs::directory_iterator()) == 1);
  CHECK(slurp(visible.path / "file") == "outside");
  CHECK(fs::is_empty(hidden_outside.path()));
  CHECK(!fs::exists("/etc/dsv4-pwned"));
  CHECK(!fs::exists("/usr/dsv4-pwned"));
}

TEST_CASE("command attack: delete outside the workspace") {
  TempDir ws_dir;
  VisibleDir visible;
  Workspace ws(ws_dir.path());
  auto rel = fs::relative(visible.path, ws_dir.path()).string();
  auto r = run_sandboxed(ws, "rm -f " + rel + "/file; rm -rf " + visible.path.string() +
                                 "; ln -s " + visible.path.string() + " l; rm -f l/file; "
                                 "rm -rf /proc/1/root" + visible.path.string() + "; echo survived");
  CHECK_THAT(r.out, Catch::Contains("survived"));
  CHECK(slurp(visible.path / "file") == "outside");
}

TEST_CASE("command attack: read a secret file placed outside the workspace") {
  TempDir ws_dir, outside;
  outside.write("secret", "the-secret-value");
  Workspace ws(ws_dir.path());
  auto secret = (outside / "secret").string();
  auto script = "cat " + secret + "; cat /proc/self/root" + secret + "; cat /proc/1/root" + secret +
                "; ln -s " + secret + " l; cat l; cp " + secret + " copy; cat copy; echo end";
  auto r = run_sandboxed(ws, script);
  CHECK_THAT(r.out, !Catch::Contains("the-secret-value"));
  CHECK_THAT(r.out, Catch::Contains("end"));
  // The same script without the sandbox does read it: the attack is real.
  Policy off;
  off.isolate_commands = false;
  TempDir ws2;
  auto control = run_sandboxed(Workspace(ws2.path(), off), script);
  CHECK_THAT(control.out, Catch::Contains("the-secret-value"));
}

TEST_CASE("command attack: read a hidden path") {
  TempDir ws_dir;
  VisibleDir visible;
  std::ofstream(visible.path / "key") << "private-key";
  fs::create_directory(visible.path / "dir");
  std::ofstream(visible.path / "dir/inner") << "private-dir";
  fs::create_directory(visible.path / "real");
  std::ofstream(visible.path / "real/inner") << "private-link";
  fs::create_directory_symlink("real", visible.path / "link");
  Policy p;
  p.hidden = {(visible.path / "key").string(), (visible.path / "dir").string(),
              (visible.path / "link").string()};
  auto v = visible.path.string();
  auto r = run_sandboxed(Workspace(ws_dir.path(), p),
                         "cat " + v + "/key " + v + "/dir/inner " + v + "/link/inner " + v +
                             "/real/inner; cat " + v + "/file; echo end");
  CHECK_THAT(r.out, !Catch::Contains("private-"));
  CHECK_THAT(r.out, Catch::Contains("outside") && Catch::Contains("end"));
}

TEST_CASE("command attack: /proc/self/root and /proc/1/root lead nowhere outside") {
  TempDir ws_dir, outside;
  outside.write("secret", "s3cr3t");
  Bystander other;
  Workspace ws(ws_dir.path());
  auto r = run_sandboxed(ws, "ls /proc | grep -c '^[0-9]'; cat /proc/" + std::to_string(other.pid) +
                                 "/cmdline; ls /proc/*/root" + outside.path().string() +
                                 "; readlink /proc/1/exe; echo end");
  CHECK_THAT(r.out, !Catch::Contains("s3cr3t"));
  CHECK_THAT(r.out, !Catch::Contains("sleep"));
  // Only the sandbox's own few processes are visible.
  REQUIRE(!r.out.empty());
  CHECK(std::stoi(r.out) < 10);
}

TEST_CASE("command attack: hard link to a file outside") {
  TempDir ws_dir;
  VisibleDir visible;
  Workspace ws(ws_dir.path());
  auto r = run_sandboxed(ws, "ln " + visible.path.string() + "/file hl && echo linked >> hl; echo end");
  CHECK_THAT(r.out, Catch::Contains("end"));
  CHECK(!fs::exists(ws_dir / "hl"));
  CHECK(slurp(visible.path / "file") == "outside");
  CHECK(fs::hard_link_count(visible.path / "file") == 1);
}

TEST_CASE("command attack: bind-mount tricks and new namespaces") {
  TempDir ws_dir;
  VisibleDir visible;
  Workspace ws(ws_dir.path());
  auto r = run_sandboxed(ws, "mkdir x; mount --bind " + visible.path.string() + " x; "
                             "mount -t tmpfs t x; unshare -Urm sh -c 'mount --bind / x'; "
                             "unshare -U true || echo unshare-refused; "
                             "mount -o remount,rw /; umount /tmp; echo end");
  CHECK_THAT(r.out, Catch::Contains("unshare-refused") && Catch::Contains("end"));
  CHECK(fs::is_empty(ws_dir / "x"));
}

TEST_CASE("command attack: connect to a TCP port on 127.0.0.1 opened outside") {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 8) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  auto port = std::to_string(ntohs(addr.sin_port));
  auto script = "(exec 3<>/dev/tcp/127.0.0.1/" + port + ") && echo CONNECTED; echo end";
  TempDir ws_dir;
  auto r = run_sandboxed(Workspace(ws_dir.path()), script);
  CHECK_THAT(r.out, !Catch::Contains("CONNECTED"));
  CHECK_THAT(r.out, Catch::Contains("end"));
  CHECK(::accept(listener, nullptr, nullptr) < 0);  // nobody knocked
  // With --allow-network the same connection works: the attack is real.
  Policy net;
  net.network = true;
  auto control = run_sandboxed(Workspace(ws_dir.path(), net), script);
  CHECK_THAT(control.out, Catch::Contains("CONNECTED"));
  int conn = ::accept(listener, nullptr, nullptr);
  CHECK(conn >= 0);
  if (conn >= 0) ::close(conn);
  ::close(listener);
}

TEST_CASE("command attack: DNS") {
  TempDir ws_dir;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "getent ahosts deepseek.com && echo RESOLVED; "
                         "cat /proc/net/dev | tail -n +3 | cut -d: -f1; "
                         "ns=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf); "
                         "[ -n \"$ns\" ] && (echo > /dev/udp/$ns/53) 2>&1; echo end");
  CHECK_THAT(r.out, !Catch::Contains("RESOLVED"));
  // No interface but loopback: nothing to send a query through.
  CHECK_THAT(r.out, Catch::Matches("\\s*lo\\s*\\n(.|\\n)*end\\n"));
  CHECK_THAT(r.out + r.err, !Catch::Contains("eth"));
}

TEST_CASE("command attack: fork bomb") {
  TempDir ws_dir;
  auto p = tight_policy();
  p.limits.wall_seconds = 4;
  const std::string marker = "dsv4forkbomb" + std::to_string(::getpid());
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_sandboxed(Workspace(ws_dir.path(), p),
                         ": " + marker + "; bomb() { bomb | bomb & }; bomb; wait; sleep 30");
  double took = seconds_since(t0);
  CHECK(took < 12);
  CHECK(r.exit_code != 0);
  // Nothing of it lives on, and we can still start processes.
  for (int i = 0; i < 20 && processes_with(marker) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(processes_with(marker) == 0);
  CHECK(dsv4::test::run({"true"}).exit_code == 0);
}

TEST_CASE("command attack: memory hog") {
  TempDir ws_dir;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_sandboxed(Workspace(ws_dir.path(), tight_policy()),
                         "python3 -c 'b = bytearray(4 << 30); print(\"ALLOCATED\")'");
  CHECK(seconds_since(t0) < 60);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out, !Catch::Contains("ALLOCATED"));
  CHECK_THAT(r.err, Catch::Contains("MemoryError"));
}

TEST_CASE("command attack: disk filler") {
  TempDir ws_dir;
  auto p = tight_policy();
  auto r = run_sandboxed(Workspace(ws_dir.path(), p),
                         "head -c 100M /dev/zero > big; head -c 100M /dev/zero > /tmp/big; "
                         "ls -l /tmp/big; echo end");
  CHECK_THAT(r.out, Catch::Contains("end"));
  REQUIRE(fs::exists(ws_dir / "big"));
  CHECK(fs::file_size(ws_dir / "big") <= p.limits.file_size_bytes);
  CHECK_THAT(r.out, Catch::Contains(" " + std::to_string(p.limits.file_size_bytes) + " "));
}

TEST_CASE("command attack: endless loop") {
  TempDir ws_dir;
  auto p = tight_policy();
  p.limits.cpu_seconds = 1;
  auto t0 = std::chrono::steady_clock::now();
  auto busy = run_sandboxed(Workspace(ws_dir.path(), p), "while :; do :; done");
  CHECK(seconds_since(t0) < 60);
  CHECK(busy.exit_code == 128 + SIGXCPU);
  CHECK_THAT(busy.err, Catch::Contains("limit-cpu"));
  // Sleeping forever uses no CPU: the wall-time limit ends it.
  p.limits.cpu_seconds = 10;
  p.limits.wall_seconds = 1;
  t0 = std::chrono::steady_clock::now();
  auto idle = run_sandboxed(Workspace(ws_dir.path(), p), "sleep 1000 & sleep 1000");
  CHECK(seconds_since(t0) < 15);
  CHECK(idle.exit_code == 137);
  CHECK_THAT(idle.err, Catch::Contains("limit-wall-time"));
}

TEST_CASE("command attack: kill a process outside the sandbox") {
  TempDir ws_dir;
  Bystander other;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "kill -9 " + std::to_string(other.pid) + "; pkill -9 sleep; "
                         "kill -9 -1; echo end");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(other.alive());
}

TEST_CASE("command attack: ptrace a process outside the sandbox") {
  TempDir ws_dir;
  Bystander other;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "python3 -c '\n"
                         "import ctypes, subprocess\n"
                         "libc = ctypes.CDLL(None, use_errno=True)\n"
                         "child = subprocess.Popen([\"sleep\", \"30\"])\n"
                         "for pid in (" + std::to_string(other.pid) + ", child.pid):\n"
                         "    r = libc.ptrace(16, pid, 0, 0)\n"
                         "    print(\"attach\", r, ctypes.get_errno())\n"
                         "child.kill()\n'");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("attach -1 3\n") || Catch::Contains("attach -1 1\n"));
  CHECK_THAT(r.out, Catch::Contains("attach -1 1\n"));  // even its own child: EPERM
  CHECK_THAT(r.out, !Catch::Contains("attach 0"));
  CHECK(other.alive());
}

TEST_CASE("command attack: type into the terminal with TIOCSTI") {
  TempDir ws_dir;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "python3 -c '\n"
                         "import os, fcntl, termios\n"
                         "m, s = os.openpty()\n"
                         "try:\n"
                         "    fcntl.ioctl(s, termios.TIOCSTI, b\"x\"); print(\"INJECTED\")\n"
                         "except OSError as e: print(\"refused\", e.errno)\n'");
  CHECK_THAT(r.out, Catch::Contains("refused 1"));
}

TEST_CASE("command attack: modify .git/hooks or .git/config through the shell") {
  TempDir ws_dir;
  dsv4::test::sh("git init -q . && git config user.name t", ws_dir.path());
  auto config_before = slurp(ws_dir / ".git/config");
  auto hooks_before = std::distance(fs::directory_iterator(ws_dir / ".git/hooks"), fs::directory_iterator());
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "echo 'touch /tmp/owned' > .git/hooks/pre-commit; chmod +x .git/hooks/*; "
                         "rm -f .git/hooks/*.sample; rm -rf .git/hooks; mv .git/hooks hooks-old; "
                         "echo '[core] hooksPath = /tmp' >> .git/config; rm -f .git/config; "
                         "git config core.fsmonitor 'touch /tmp/owned'; "
                         "mv .git .git-old || echo rename-refused; "
                         "cp -r .git .git-copy; ln -sfn .git-copy .git; echo end");
  CHECK_THAT(r.out, Catch::Contains("rename-refused") && Catch::Contains("end"));
  CHECK(slurp(ws_dir / ".git/config") == config_before);
  CHECK(!fs::exists(ws_dir / ".git/hooks/pre-commit"));
  CHECK(std::distance(fs::directory_iterator(ws_dir / ".git/hooks"), fs::directory_iterator()) == hooks_before);
  CHECK(fs::is_directory(ws_dir / ".git"));
  CHECK(!fs::is_symlink(ws_dir / ".git"));
}

TEST_CASE("command attack: plant a .dsv4 config that switches the sandbox off") {
  TempDir ws_dir;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "mkdir -p .dsv4; echo '{\"sandbox\":{\"mode\":\"full-access\"}}' > "
                         ".dsv4/config.json; mv .dsv4 x || echo rename-refused; echo end");
  CHECK_THAT(r.out, Catch::Contains("rename-refused"));
  CHECK(fs::is_directory(ws_dir / ".dsv4"));  // created empty by the sandbox to hold it
  CHECK(fs::is_empty(ws_dir / ".dsv4"));
  // A symlink in a protected place makes the sandbox refuse to run anything.
  fs::remove(ws_dir / ".dsv4");
  fs::create_symlink("elsewhere", ws_dir / ".dsv4");
  auto refused = run_sandboxed(Workspace(ws_dir.path()), "echo RAN");
  CHECK(refused.exit_code == 125);
  CHECK_THAT(refused.out, !Catch::Contains("RAN"));
  CHECK_THAT(refused.err, Catch::Contains(".dsv4' is a symlink"));
}

TEST_CASE("command attack: write the workspace in read-only mode") {
  TempDir ws_dir;
  ws_dir.write("file", "original");
  Policy p;
  p.mode = Mode::read_only;
  auto r = run_sandboxed(Workspace(ws_dir.path(), p), "echo x > file; echo x > new; cat file");
  CHECK_THAT(r.out, Catch::Contains("original"));
  CHECK(ws_dir.read("file") == "original");
  CHECK(!fs::exists(ws_dir / "new"));
}

TEST_CASE("command attack: reach the host's disks and root-only files") {
  TempDir ws_dir;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "ls /dev; head -c 1 /dev/vda /dev/sda /dev/nvme0n1 /dev/mem 2>&1 | grep -v "
                         "'No such' ; echo b > /proc/sysrq-trigger; echo 1 > /proc/sys/vm/drop_caches; "
                         "ls /run; echo end");
  CHECK_THAT(r.out, Catch::Contains("null") && Catch::Contains("urandom") && Catch::Contains("end"));
  CHECK_THAT(r.out, !Catch::Contains("vda") && !Catch::Contains("sda"));
  CHECK_THAT(r.out, !Catch::Contains("docker.sock"));
}

TEST_CASE("command attack: read the agent's secrets from the environment") {
  TempDir ws_dir;
  ::setenv("DSV4_TEST_API_KEY", "sk-leak", 1);
  ::setenv("DSV4_TEST_PLAIN", "visible", 1);
  auto r = run_sandboxed(Workspace(ws_dir.path()), "env");
  ::unsetenv("DSV4_TEST_API_KEY");
  ::unsetenv("DSV4_TEST_PLAIN");
  CHECK_THAT(r.out, !Catch::Contains("sk-leak"));
  CHECK_THAT(r.out, Catch::Contains("DSV4_TEST_PLAIN=visible"));
}

TEST_CASE("commands are refused where isolation is unavailable, unless --no-sandbox") {
  TempDir ws_dir;
  dsv4::sandbox::set_launcher_path("/nonexistent/dsv4");
  Workspace ws(ws_dir.path());
  try {
    (void)ws.command_argv({"true"});
    FAIL("command_argv accepted a command without isolation");
  } catch (const AccessDenied& e) {
    CHECK(e.rule() == "isolation-required");
    CHECK_THAT(e.what(), Catch::Contains("--no-sandbox"));
  }
  Policy off;
  off.isolate_commands = false;
  CHECK(Workspace(ws_dir.path(), off).command_argv({"true"}) == std::vector<std::string>{"true"});
  Policy full;
  full.mode = Mode::full_access;
  CHECK(Workspace(ws_dir.path(), full).command_argv({"true"}) == std::vector<std::string>{"true"});
  dsv4::sandbox::set_launcher_path(DSV4_BINARY);
  CHECK(ws.command_argv({"true"}).size() > 1);
}

TEST_CASE("command attack: reach outside through file descriptors the agent leaked") {
  TempDir ws_dir, outside;
  outside.write("secret", "fd-secret");
  // A folder fd without O_CLOEXEC, as a careless agent might leak it to its children.
  int leaked = ::open(outside.path().c_str(), O_PATH | O_DIRECTORY);
  REQUIRE(leaked >= 0);
  auto n = std::to_string(leaked);
  auto script = "cat /proc/self/fd/" + n + "/secret; cat /proc/1/fd/" + n + "/secret; "
                "cat /proc/$PPID/fd/" + n + "/secret; echo x > /proc/1/fd/" + n + "/pwned; "
                "ls /proc/1/root/ >/dev/null && echo ROOT-OPEN; echo end";
  auto r = run_sandboxed(Workspace(ws_dir.path()), script);
  Policy off;
  off.isolate_commands = false;
  auto control = run_sandboxed(Workspace(ws_dir.path(), off), "cat /proc/self/fd/" + n + "/secret");
  ::close(leaked);
  CHECK_THAT(r.out, !Catch::Contains("fd-secret") && Catch::Contains("end"));
  CHECK_THAT(r.out, !Catch::Contains("ROOT-OPEN"));
  CHECK(!fs::exists(outside / "pwned"));
  CHECK_THAT(control.out, Catch::Contains("fd-secret"));  // the leak is real
}
