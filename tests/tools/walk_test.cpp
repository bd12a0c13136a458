// The walker against ripgrep's own idea of which files to search (`rg --files`), plus
// hostile trees: symlink loops, links out of the root, odd names, deep nesting.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/walk_support.hpp"

namespace {

namespace fs = std::filesystem;
using dsv4::test::TempDir;
using dsv4::tools::Entry;
using dsv4::tools::WalkOptions;

// rg lists neither symlinks (it does not follow them) nor anything else but files.
std::set<std::string> regular_files(const fs::path& root, WalkOptions opt = {}) {
  dsv4::sandbox::Workspace ws(root);
  std::set<std::string> out;
  std::mutex mu;
  dsv4::tools::walk(ws, opt, [&](const Entry& e) {
    std::lock_guard lock(mu);
    if (e.kind == Entry::Kind::file) out.insert(e.path);
    return true;
  });
  return out;
}

const std::vector<std::string> kRepoTree = {
    "main.c", "README.md", ".hidden.c", ".config/x.toml", "notes.log",
    "src/a.c", "src/b.tmp", "src/.secret", "src/gen/out.c", "src/gen/keep.c",
    "vendor/lib.c", "docs/x.md", "docs/y.md", "sub/nested.c", "sub/deep/deeper.c",
    "name with spaces.c", "caf\xE9.c", "new\nline.c", "tab\tname.c",
    "loop -> .", "self -> self", "out -> /etc", "src/up -> ..", "filelink.c -> main.c",
};

}  // namespace

TEST_CASE("the walker sees the same files as rg --files in a git repository") {
  TempDir dir;
  dsv4::test::sh("git init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), kRepoTree);
  dir.write(".gitignore", "*.log\n*.tmp\nsrc/gen/*\n!src/gen/keep.c\n/vendor\n");
  dir.write("docs/.gitignore", "y.md\n");
  dir.write(".ignore", "sub/deep/\n");
  dir.write("sub/.rgignore", "!deep\n");  // .rgignore beats the parent's .ignore
  auto rg = dsv4::test::rg_files(dir.path());
  CHECK(rg.count("main.c") == 1);  // the reference saw something
  CHECK(regular_files(dir.path()) == rg);
  WalkOptions hidden;
  hidden.hidden = true;
  auto rg_hidden = dsv4::test::rg_files(dir.path(), "--hidden -g '!.git'");
  CHECK(regular_files(dir.path(), hidden) == rg_hidden);
  WalkOptions parallel;
  parallel.threads = 4;
  CHECK(regular_files(dir.path(), parallel) == rg);
}

TEST_CASE("without a repository .gitignore does not count, like rg; .ignore does") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), {"a.c", "b.log", "c.tmp", "d/e.log"});
  dir.write(".gitignore", "*.log\n");
  dir.write(".ignore", "*.tmp\n");
  auto rg = dsv4::test::rg_files(dir.path());
  CHECK(rg.count("b.log") == 1);
  CHECK(regular_files(dir.path()) == rg);
  WalkOptions no_git;
  no_git.require_git = false;
  CHECK(regular_files(dir.path(), no_git) ==
        dsv4::test::rg_files(dir.path(), "--no-require-git"));
  CHECK(regular_files(dir.path(), no_git).count("b.log") == 0);
}

TEST_CASE("a nested repository starts its own rules") {
  TempDir dir;
  dsv4::test::sh("git init -q . && mkdir inner && git -C inner init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), {"a.c", "x.gen", "inner/b.c", "inner/y.gen", "inner/z.out"});
  dir.write(".gitignore", "*.gen\n");
  dir.write("inner/.gitignore", "*.out\n");
  dir.write("inner/.git/info/exclude", "b.c\n");
  auto rg = dsv4::test::rg_files(dir.path());
  CHECK(rg.count("a.c") == 1);
  CHECK(regular_files(dir.path()) == rg);
}

TEST_CASE("walking a subfolder keeps its parents' rules and reports root-relative paths") {
  TempDir dir;
  dsv4::test::sh("git init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), {"src/a.c", "src/b.log", "src/x/c.log", "src/x/d.c", "top.c"});
  dir.write(".gitignore", "*.log\n");
  WalkOptions opt;
  opt.path = "src";
  CHECK(regular_files(dir.path(), opt) == std::set<std::string>{"src/a.c", "src/x/d.c"});
  auto rg = dsv4::test::rg_files(dir.path(), "src");
  CHECK(rg == std::set<std::string>{"src/a.c", "src/x/d.c"});
}

TEST_CASE("symlinks are reported, never followed; loops and links out of the root end") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), kRepoTree);
  dsv4::sandbox::Workspace ws(dir.path());
  std::map<std::string, Entry::Kind> seen;
  WalkOptions opt;
  opt.hidden = true;
  dsv4::tools::walk(ws, opt, [&](const Entry& e) {
    CHECK(seen.emplace(e.path, e.kind).second);  // nothing twice
    return true;
  });
  CHECK(seen.at("loop") == Entry::Kind::symlink);
  CHECK(seen.at("self") == Entry::Kind::symlink);
  CHECK(seen.at("out") == Entry::Kind::symlink);
  CHECK(seen.at("src/up") == Entry::Kind::symlink);
  CHECK(seen.at("new\nline.c") == Entry::Kind::file);
  CHECK(seen.at("caf\xE9.c") == Entry::Kind::file);
  CHECK(seen.at(".config") == Entry::Kind::dir);
  for (auto& [path, kind] : seen) {
    CHECK_FALSE(path.starts_with("out/"));
    CHECK_FALSE(path.starts_with("loop/"));
  }
}

TEST_CASE("Entry::open reads the file and refuses a symlink") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), {"a/b.txt", "a/link -> b.txt"});
  dsv4::sandbox::Workspace ws(dir.path());
  int opened = 0, refused = 0;
  dsv4::tools::walk(ws, {}, [&](const Entry& e) {
    if (e.kind == Entry::Kind::dir) return true;
    auto fd = e.open();
    (fd ? opened : refused)++;
    return true;
  });
  CHECK(opened == 1);
  CHECK(refused == 1);
}

TEST_CASE("sorted walks come in path order, honour depth, and stop when told") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), {"a.txt", "a/x", "a/y/z", "a-b", "b/c/d/e", "B"});
  dsv4::sandbox::Workspace ws(dir.path());
  std::vector<std::string> order;
  WalkOptions opt;
  opt.sorted = true;
  dsv4::tools::walk(ws, opt, [&](const Entry& e) {
    order.push_back(e.kind == Entry::Kind::dir ? e.path + "/" : e.path);
    return true;
  });
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.size() == 11);
  opt.max_depth = 2;
  std::set<std::string> shallow;
  dsv4::tools::walk(ws, opt, [&](const Entry& e) {
    CHECK(e.depth <= 2);
    shallow.insert(e.path);
    return true;
  });
  CHECK(shallow == std::set<std::string>{"B", "a", "a-b", "a.txt", "a/x", "a/y", "b", "b/c"});
  int visits = 0;
  dsv4::tools::walk(ws, opt, [&](const Entry&) { return ++visits < 3; });
  CHECK(visits == 3);
}

TEST_CASE("deep nesting does not run out of descriptors or stack") {
  TempDir dir;
  std::string deep;
  for (int i = 0; i < 150; ++i) deep += "d/";
  dsv4::test::make_tree(dir.path(), {deep + "leaf.txt"});
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit low = old;
  low.rlim_cur = 64;
  ::setrlimit(RLIMIT_NOFILE, &low);
  for (bool sorted : {true, false}) {
    WalkOptions opt;
    opt.sorted = sorted;
    CHECK(regular_files(dir.path(), opt) == std::set<std::string>{deep + "leaf.txt"});
  }
  ::setrlimit(RLIMIT_NOFILE, &old);
}

TEST_CASE("a start path that is not a folder is refused") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), {"f.txt"});
  dsv4::sandbox::Workspace ws(dir.path());
  WalkOptions opt;
  opt.path = "f.txt";
  CHECK_THROWS(dsv4::tools::walk(ws, opt, [](const Entry&) { return true; }));
  opt.path = "../x";
  CHECK_THROWS_AS(dsv4::tools::walk(ws, opt, [](const Entry&) { return true; }),
                  dsv4::sandbox::AccessDenied);
}
