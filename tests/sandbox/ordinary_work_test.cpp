// Ordinary work inside the sandbox must still succeed: builds, test runners, git.
#include <catch2/catch.hpp>

#include <filesystem>

#include "sandbox/workspace.hpp"
#include "tests/sandbox/sandboxed.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using dsv4::sandbox::Workspace;
using dsv4::test::run_sandboxed;
using dsv4::test::TempDir;

TEST_CASE("ordinary work: cmake and make build and run a small C project") {
  TempDir ws_dir;
  ws_dir.write("CMakeLists.txt",
               "cmake_minimum_required(VERSION 3.20)\nproject(hello C)\nadd_executable(hello main.c)\n");
  ws_dir.write("main.c", "#include <stdio.h>\nint main(void) { puts(\"hello from the sandbox\"); return 0; }\n");
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "cmake -S . -B build -G 'Unix Makefiles' >/dev/null && make -C build >/dev/null "
                         "&& ./build/hello");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello from the sandbox\n");
  CHECK(fs::exists(ws_dir / "build/hello"));
}

TEST_CASE("ordinary work: python3 -m pytest") {
  // Debian's python3-pytest belongs to /usr/bin/python3; another python3 may come first.
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"})
    if (python.empty() && dsv4::test::run({candidate, "-m", "pytest", "--version"}).exit_code == 0)
      python = candidate;
  if (python.empty()) {
    WARN("pytest is not installed (apt-get install python3-pytest); skipped");
    return;
  }
  TempDir ws_dir;
  ws_dir.write("calc.py", "def add(a, b):\n    return a + b\n");
  ws_dir.write("test_calc.py",
               "import calc, tempfile\n\ndef test_add():\n    assert calc.add(2, 3) == 5\n\n"
               "def test_tmp(tmp_path):\n    (tmp_path / 'x').write_text('y')\n"
               "    assert (tmp_path / 'x').read_text() == 'y'\n");
  auto r = run_sandboxed(Workspace(ws_dir.path()), python + " -m pytest -q -p no:cacheprovider 2>&1");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("2 passed"));
}

TEST_CASE("ordinary work: npm test with node --test") {
  if (dsv4::test::run({"npm", "--version"}).exit_code != 0) {
    WARN("npm is not installed; skipped");
    return;
  }
  TempDir ws_dir;
  ws_dir.write("package.json",
               R"({"name": "tiny", "version": "1.0.0", "scripts": {"test": "node --test"}})");
  ws_dir.write("test/sum.test.js",
               "const test = require('node:test');\nconst assert = require('node:assert');\n"
               "test('sum', () => { assert.strictEqual(1 + 2, 3); });\n");
  auto r = run_sandboxed(Workspace(ws_dir.path()), "npm test 2>&1");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("pass 1"));
}

TEST_CASE("ordinary work: git init, add, commit, log, branch") {
  TempDir ws_dir;
  ws_dir.write("README", "hello\n");
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "set -e; export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
                         "GIT_COMMITTER_EMAIL=t@x; git init -q -b main .; git add README; "
                         "git commit -qm first; echo more >> README; git commit -qam second; "
                         "git checkout -qb topic; git log --format=%s");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "second\nfirst\n");
  // Checked from outside with git itself.
  CHECK(dsv4::test::sh("git log --format=%s main", ws_dir.path()) == "second\nfirst\n");
  // In an existing repository (protected .git/hooks and .git/config) commits still work.
  auto again = run_sandboxed(Workspace(ws_dir.path()),
                             "set -e; export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
                             "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; echo x > new; "
                             "git add new; git commit -qm third; git checkout -q main; git merge -q topic; "
                             "git status --short; git log --format=%s -1");
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out == "third\n");
}

TEST_CASE("ordinary work: pipes, background jobs, /tmp and /dev/null inside") {
  TempDir ws_dir;
  auto r = run_sandboxed(Workspace(ws_dir.path()),
                         "set -e; echo hi > /tmp/x; cat /tmp/x | tr a-z A-Z > out; sleep 0.1 & wait; "
                         "echo gone > /dev/null; head -c 4 /dev/urandom | wc -c; cat out; hostname");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "4\nHI\ndsv4-sandbox\n");
  CHECK(ws_dir.read("out") == "HI\n");
}
