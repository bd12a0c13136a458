// Attacks on in-process file access (what the file tools do through the Workspace).
// Every attack runs with both resolvers: the kernel's openat2 and our O_NOFOLLOW walk.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include "sandbox/resolve.hpp"
#include "sandbox/workspace.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using dsv4::sandbox::AccessDenied;
using dsv4::sandbox::Mode;
using dsv4::sandbox::Policy;
using dsv4::sandbox::Resolver;
using dsv4::sandbox::Workspace;
using dsv4::test::TempDir;

namespace {

// Forces one resolver for the test (both are generated) and restores detection after.
struct ResolverChoice {
  explicit ResolverChoice(Resolver r) { dsv4::sandbox::force_resolver(r); }
  ~ResolverChoice() { dsv4::sandbox::force_resolver(std::nullopt); }
};

#define EACH_RESOLVER()                                                             \
  const Resolver resolver_ = GENERATE(Resolver::openat2, Resolver::walk);          \
  INFO("resolver: " << (resolver_ == Resolver::openat2 ? "openat2" : "O_NOFOLLOW walk")); \
  ResolverChoice choice_(resolver_)

// The rule of the AccessDenied that `f` throws; "(allowed)" or "(other: ...)" otherwise.
std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const AccessDenied& e) {
    CHECK_THAT(e.what(), Catch::Contains("[sandbox rule: " + e.rule() + "]"));
    return e.rule();
  } catch (const std::exception& e) {
    return std::string("(other: ") + e.what() + ")";
  }
  return "(allowed)";
}

std::string read_all(const Workspace& ws, const std::string& path) {
  auto fd = ws.open_read(path);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// A workspace and, beside it, an outside folder holding a secret.
struct Scene {
  TempDir outside, inside;
  Workspace ws{inside.path()};
  std::string up;  // root-relative path of the outside folder through ".."
  Scene() {
    outside.write("secret", "top secret");
    up = "../" + outside.path().filename().string();
  }
  bool outside_untouched() const {
    return fs::exists(outside / "secret") && outside.read("secret") == "top secret" &&
           std::distance(fs::directory_iterator(outside.path()), fs::directory_iterator()) == 1;
  }
};

}  // namespace

TEST_CASE("file attack: write outside the root through ..") {
  EACH_RESOLVER();
  Scene s;
  CHECK(refusal([&] { s.ws.write_atomic(s.up + "/pwned", "x"); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.write_atomic(s.up + "/secret", "x"); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.write_atomic("sub/../../" + s.up.substr(3) + "/pwned", "x"); }) ==
        "beneath-root");
  CHECK(s.outside_untouched());
}

TEST_CASE("file attack: read outside the root through ..") {
  EACH_RESOLVER();
  Scene s;
  CHECK(refusal([&] { s.ws.open_read(s.up + "/secret"); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.open_dir(".."); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.relative("a/../../b"); }) == "beneath-root");
}

TEST_CASE("file attack: delete outside the root through ..") {
  EACH_RESOLVER();
  Scene s;
  CHECK(refusal([&] { s.ws.remove_file(s.up + "/secret"); }) == "beneath-root");
  CHECK(s.outside_untouched());
}

TEST_CASE("file attack: absolute paths outside the root") {
  EACH_RESOLVER();
  Scene s;
  auto secret = (s.outside / "secret").string();
  CHECK(refusal([&] { s.ws.open_read(secret); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.write_atomic(secret, "x"); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.remove_file(secret); }) == "beneath-root");
  CHECK(refusal([&] { s.ws.open_read("/etc/passwd"); }) == "beneath-root");
  // A sibling whose name merely starts with the root's name is outside too.
  CHECK(refusal([&] { s.ws.open_read(s.inside.path().string() + "-x/f"); }) == "beneath-root");
  CHECK(s.outside_untouched());
  // Absolute paths inside are fine.
  s.ws.write_atomic((s.inside / "ok.txt").string(), "fine");
  CHECK(s.inside.read("ok.txt") == "fine");
}

TEST_CASE("file attack: direct symlink to a file outside") {
  EACH_RESOLVER();
  Scene s;
  fs::create_symlink(s.outside / "secret", s.inside / "abs");
  fs::create_symlink(s.up + "/secret", s.inside / "rel");
  for (const char* link : {"abs", "rel"}) {
    INFO(link);
    CHECK(refusal([&] { s.ws.open_read(link); }) == "no-symlink-escape");
    CHECK(refusal([&] { s.ws.write_atomic(link, "pwned"); }) == "no-symlink-escape");
  }
  CHECK(s.outside_untouched());
  // Removing the link removes the link, never its target.
  s.ws.remove_file("abs");
  CHECK(!fs::is_symlink(s.inside / "abs"));
  CHECK(s.outside_untouched());
}

TEST_CASE("file attack: symlinked parent folder pointing outside") {
  EACH_RESOLVER();
  Scene s;
  fs::create_symlink(s.outside.path(), s.inside / "abs");
  fs::create_symlink(s.up, s.inside / "rel");
  fs::create_directories(s.inside / "deep/er");
  fs::create_symlink("../../" + s.up, s.inside / "deep/er/up");
  for (const char* dir : {"abs", "rel", "deep/er/up"}) {
    INFO(dir);
    std::string d = dir;
    CHECK(refusal([&] { s.ws.open_read(d + "/secret"); }) == "no-symlink-escape");
    CHECK(refusal([&] { s.ws.write_atomic(d + "/secret", "pwned"); }) == "no-symlink-escape");
    CHECK(refusal([&] { s.ws.write_atomic(d + "/new/file", "pwned"); }) == "no-symlink-escape");
    CHECK(refusal([&] { s.ws.remove_file(d + "/secret"); }) == "no-symlink-escape");
    CHECK(refusal([&] { s.ws.open_dir(d); }) == "no-symlink-escape");
    struct stat st {};
    CHECK(refusal([&] { s.ws.stat(d + "/secret", st); }) == "no-symlink-escape");
  }
  CHECK(s.outside_untouched());
}

TEST_CASE("file attack: symlink swapped in mid-operation") {
  EACH_RESOLVER();
  Scene s;
  // "d" flips between a real folder and a symlink to the outside folder, as fast as a
  // racing process can, while we keep writing d/pwned and reading d/secret.
  fs::create_directory(s.inside / "d");
  s.inside.write("d/secret", "inside");
  fs::create_symlink(s.outside.path(), s.inside / "swap");
  std::atomic<bool> stop{false};
  std::atomic<long> flips{0};
  std::thread racer([&] {
    while (!stop) {
      if (::renameat2(AT_FDCWD, (s.inside / "d").c_str(), AT_FDCWD, (s.inside / "swap").c_str(),
                      RENAME_EXCHANGE) == 0)
        ++flips;
    }
  });
  int wrote = 0, refused = 0;
  for (int i = 0; i < 1000; ++i) {
    try {
      s.ws.write_atomic("d/pwned", "x");
      ++wrote;
    } catch (const AccessDenied&) {
      ++refused;
    } catch (const std::exception&) {
      // ENOENT and the like while the entries move: neither in nor out.
    }
    std::string got = "inside";
    try {
      got = read_all(s.ws, "d/secret");
    } catch (const std::exception&) {
    }
    CHECK(got == "inside");
  }
  stop = true;
  racer.join();
  INFO("flips " << flips << ", writes " << wrote << ", refusals " << refused);
  CHECK(flips > 100);
  CHECK(refused > 0);
  CHECK(s.outside_untouched());
}

TEST_CASE("file attack: hard link to a file outside") {
  EACH_RESOLVER();
  Scene s;
  // Made by someone else (inside the sandbox a hard link across mounts is impossible):
  // writing replaces the workspace's name, the outside file keeps its contents.
  REQUIRE(::link((s.outside / "secret").c_str(), (s.inside / "hl").c_str()) == 0);
  s.ws.write_atomic("hl", "overwritten");
  CHECK(s.inside.read("hl") == "overwritten");
  CHECK(s.outside_untouched());
  CHECK(fs::hard_link_count(s.outside / "secret") == 1);
}

TEST_CASE("file attack: /proc/self/root and magic links") {
  EACH_RESOLVER();
  Scene s;
  auto via_proc = "/proc/self/root" + (s.outside / "secret").string();
  CHECK(refusal([&] { s.ws.open_read(via_proc); }) == "beneath-root");
  fs::create_symlink(via_proc, s.inside / "proc_link");
  CHECK(refusal([&] { s.ws.open_read("proc_link"); }) == "no-symlink-escape");
  CHECK(refusal([&] { s.ws.write_atomic("proc_link", "x"); }) == "no-symlink-escape");
  // Climbing to / with enough "..", then into /proc.
  std::string climb;
  for (auto& part : s.inside.path()) if (part != "/") climb += "../";
  fs::create_symlink(climb + "proc/self/root/" + (s.outside / "secret").relative_path().string(),
                     s.inside / "climb");
  CHECK(refusal([&] { s.ws.open_read("climb"); }) == "no-symlink-escape");
  int outside_fd = ::open(s.outside.path().c_str(), O_PATH | O_CLOEXEC);
  fs::create_symlink("/proc/self/fd/" + std::to_string(outside_fd), s.inside / "fd_link");
  CHECK(refusal([&] { s.ws.write_atomic("fd_link/pwned", "x"); }) == "no-symlink-escape");
  ::close(outside_fd);
  CHECK(s.outside_untouched());
}

TEST_CASE("file attack: symlink loop") {
  EACH_RESOLVER();
  Scene s;
  fs::create_symlink("b", s.inside / "a");
  fs::create_symlink("a", s.inside / "b");
  CHECK(refusal([&] { s.ws.open_read("a"); }) == "no-symlink-escape");
  CHECK(refusal([&] { s.ws.write_atomic("a/x", "x"); }) == "no-symlink-escape");
}

TEST_CASE("file attack: modify .git/hooks, .git/config or .dsv4 through the file tools") {
  EACH_RESOLVER();
  Scene s;
  s.inside.write(".git/hooks/pre-commit.sample", "#!/bin/sh\n");
  s.inside.write(".git/config", "[core]\n");
  s.inside.write(".git/HEAD", "ref: refs/heads/main\n");
  fs::create_symlink(".git", s.inside / "g");
  fs::create_symlink(".git/config", s.inside / "c");
  fs::create_directory(s.inside / "sub");
  for (const std::string& path : std::vector<std::string>{".git/hooks/pre-commit", ".git/hooks/pre-commit.sample",
                                 ".git/config", ".git/hooks", "./.git//config",
                                 "sub/../.git/hooks/post-checkout", ".dsv4/config.json",
                                 "g/hooks/pre-commit", "g/config", "c",
                                 (s.inside / ".git/config").string()}) {
    INFO(path);
    CHECK(refusal([&] { s.ws.write_atomic(path, "evil"); }) == "protected-path");
  }
  for (const char* path : {".git/config", "g/config", ".git/hooks/pre-commit.sample"}) {
    INFO(path);
    CHECK(refusal([&] { s.ws.remove_file(path); }) == "protected-path");
  }
  CHECK(s.inside.read(".git/config") == "[core]\n");
  CHECK(!fs::exists(s.inside / ".git/hooks/pre-commit"));
  CHECK(!fs::exists(s.inside / ".git/hooks/post-checkout"));
  CHECK(!fs::exists(s.inside / ".dsv4"));
  // Near misses are ordinary files.
  s.ws.write_atomic(".git/HEAD", "ref: refs/heads/other\n");
  s.ws.write_atomic("x.git/config", "ok");
  s.ws.write_atomic(".dsv4x", "ok");
  CHECK(s.inside.read(".git/HEAD") == "ref: refs/heads/other\n");
  // The user may switch protection off with full-access.
  Policy open;
  open.mode = Mode::full_access;
  Workspace full(s.inside.path(), open);
  full.write_atomic(".git/config", "[user]\n");
  CHECK(s.inside.read(".git/config") == "[user]\n");
  CHECK(refusal([&] { full.write_atomic(s.up + "/pwned", "x"); }) == "beneath-root");
}

TEST_CASE("file attack: any change in read-only mode") {
  EACH_RESOLVER();
  Scene s;
  s.inside.write("file.txt", "original");
  Policy p;
  p.mode = Mode::read_only;
  Workspace ro(s.inside.path(), p);
  CHECK(refusal([&] { ro.write_atomic("file.txt", "changed"); }) == "read-only-mode");
  CHECK(refusal([&] { ro.write_atomic("new/file.txt", "new"); }) == "read-only-mode");
  CHECK(refusal([&] { ro.remove_file("file.txt"); }) == "read-only-mode");
  CHECK(s.inside.read("file.txt") == "original");
  CHECK(!fs::exists(s.inside / "new"));
  CHECK(read_all(ro, "file.txt") == "original");
}

TEST_CASE("file tools: ordinary paths and inside symlinks work with both resolvers") {
  EACH_RESOLVER();
  Scene s;
  s.ws.write_atomic("a/b/c.txt", "one");
  fs::create_symlink("a/b", s.inside / "ab");
  fs::create_symlink("../b/c.txt", s.inside / "a/b/self");
  CHECK(read_all(s.ws, "ab/c.txt") == "one");
  CHECK(read_all(s.ws, "a/b/self") == "one");
  CHECK(read_all(s.ws, "a/./b/../b/c.txt") == "one");
  // Writing through an inside symlink writes its target and keeps the link.
  s.ws.write_atomic("a/b/self", "two");
  CHECK(fs::is_symlink(s.inside / "a/b/self"));
  CHECK(s.inside.read("a/b/c.txt") == "two");
  s.ws.write_atomic("ab/d.txt", "three");
  CHECK(s.inside.read("a/b/d.txt") == "three");
  auto dir = s.ws.open_dir("ab");
  struct stat st {};
  REQUIRE(::fstatat(dir.get(), "d.txt", &st, 0) == 0);
  CHECK(S_ISREG(st.st_mode));
  s.ws.remove_file("ab/d.txt");
  CHECK(!fs::exists(s.inside / "a/b/d.txt"));
  CHECK(s.ws.stat("a", st));
  CHECK(!s.ws.stat("missing", st));
}

// The kernel refuses a RESOLVE_BENEATH ".." step with EAGAIN while any rename on the machine
// races it (CI once failed this way); ordinary opens must not fail because of other work.
TEST_CASE("file tools: '..' paths resolve while renames run elsewhere") {
  Scene s;
  s.ws.write_atomic("a/b/c.txt", "one");
  TempDir elsewhere;
  elsewhere.write("x", "");
  std::atomic<bool> stop{false};
  std::thread renamer([&] {
    const auto x = (elsewhere / "x").string(), y = (elsewhere / "y").string();
    while (!stop.load()) {
      ::rename(x.c_str(), y.c_str());
      ::rename(y.c_str(), x.c_str());
    }
  });
  // Paths are normalised lexically first, so the ".." steps come from symlinks, as in CI.
  std::string target = "c.txt";
  for (int i = 0; i < 50; ++i) target = "../b/" + target;
  fs::create_symlink(target, s.inside / "a/b/up");
  const std::string path = "a/b/up";
  int failures = 0;
  std::string last_error;
  for (int i = 0; i < 20000; ++i) {
    try {
      if (read_all(s.ws, path) != "one") ++failures;
    } catch (const std::exception& e) {
      ++failures;
      last_error = e.what();
    }
  }
  stop = true;
  renamer.join();
  INFO(last_error);
  CHECK(failures == 0);
}
