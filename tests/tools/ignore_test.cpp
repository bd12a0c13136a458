// Ignore rules checked against git itself: every case builds a real repository, writes
// the rules, and compares the walker's files with `git ls-files --others
// --exclude-standard` (hidden files included, as git does not hide them).
#include <catch2/catch.hpp>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/walk_support.hpp"
#include "tools/ignore.hpp"

namespace {

using dsv4::test::TempDir;

const std::vector<std::string> kTree = {
    "a.txt", "b.log", "c.o", "x.c", ".hidden", "q1.txt", "7up.txt",
    "dir/a.txt", "dir/b.log", "dir/sub/a.txt", "dir/sub/deep/x.c", "dir/.env",
    "build/out.o", "build/keep.txt", "src/build/y.c", "src/main.c", "src/lib/util.c",
    "doc/readme.md", "doc/build", "sp ace.txt", "#hash", "!bang", "[br].txt",
    "foo/bar/baz/qux.txt", "foo/qux.txt", "trail ", "caf\xE9.txt", "new\nline.txt",
    "back\\slash", "UPPER.TXT", "empty/", "link -> a.txt", "dirlink -> dir",
};

void check_against_git(const std::string& gitignore, const std::string& exclude = "") {
  TempDir dir;
  dsv4::test::sh("git init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), kTree);
  dir.write(".gitignore", gitignore);
  if (!exclude.empty()) dir.write(".git/info/exclude", exclude);
  dsv4::tools::WalkOptions opt;
  opt.hidden = true;
  INFO(".gitignore:\n" << gitignore);
  CHECK(dsv4::test::walked_files(dir.path(), opt) == dsv4::test::git_untracked(dir.path()));
}

}  // namespace

TEST_CASE("ignore patterns match what git ignores") {
  const char* cases[] = {
      "*.log",
      "/a.txt",
      "a.txt",
      "dir/",
      "dir",
      "build/\n!build/keep.txt\n",  // a folder once excluded cannot be re-included
      "build/*\n!build/keep.txt\n",
      "**/sub",
      "dir/**",
      "dir/**/x.c",
      "src/**/*.c",
      "**/*.c",
      "*.[oc]",
      "[!a]*.txt",
      "[^a]*.txt",
      "[[:digit:]]*",
      "[[:upper:]]*",
      "[a-c].txt\n[b-a]*\n",
      "?.txt\n??.txt\n",
      "\\#hash",
      "#hash",
      "\\!bang",
      "!bang",
      "trail\\ ",
      "trail",
      "*.txt   \n",
      "*.log\r\n*.o\r\n",
      "*.txt\n!dir/*.txt\n",
      "doc/build",
      "build",
      "foo/**/qux.txt",
      "foo/*/qux.txt",
      "**/baz",
      "*\n!*/\n!*.c\n",
      "**",
      "*/",
      "src/*",
      "sp ace.txt",
      "*\xE9*",
      "dir/sub/",
      "\\[br].txt",
      "[br].txt",
      "[unclosed",
      "new?line.txt",
      "back\\\\slash",
      "*.TXT",
      "link",
      "dirlink/",
      "dirlink",
      "a**b\n*.t*t\n",
      "d*/s*/",
      "/",
      "!*.log\n*.log\n",
  };
  for (const char* c : cases) check_against_git(c);
}

TEST_CASE("nested .gitignore files are relative to their folder and override parents") {
  TempDir dir;
  dsv4::test::sh("git init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), kTree);
  dir.write(".gitignore", "*.txt\n");
  dir.write("dir/.gitignore", "!*.txt\n/sub/deep/\n");
  dir.write("dir/sub/.gitignore", "a.txt\n");
  dir.write("foo/.gitignore", "/qux.txt\nbar/baz\n");
  dir.write("src/.gitignore", "build/\n/lib\n");
  dsv4::tools::WalkOptions opt;
  opt.hidden = true;
  CHECK(dsv4::test::walked_files(dir.path(), opt) == dsv4::test::git_untracked(dir.path()));
}

TEST_CASE(".git/info/exclude counts, below the .gitignore files") {
  check_against_git("!c.o\n", "*.o\n*.md\ndir/sub\n");
}

TEST_CASE("glob_match follows git's wildmatch on paths") {
  using dsv4::tools::glob_match;
  // Cases from git's t3070-wildmatch with WM_PATHNAME.
  CHECK(glob_match("**/foo", "foo"));
  CHECK(glob_match("**/foo", "a/b/foo"));
  CHECK(glob_match("a/**/b", "a/b"));
  CHECK(glob_match("a/**/b", "a/x/y/b"));
  CHECK_FALSE(glob_match("*", "a/b"));
  CHECK_FALSE(glob_match("a?b", "a/b"));
  CHECK_FALSE(glob_match("a[/]b", "a/b"));
  CHECK(glob_match("foo/**", "foo/a/b"));
  CHECK_FALSE(glob_match("foo/**", "foo"));
  CHECK(glob_match("**", "a/b/c"));
  CHECK(glob_match("a**b", "axxb"));
  CHECK_FALSE(glob_match("a**b", "a/b"));
  CHECK(glob_match("[]]", "]"));
  CHECK(glob_match("[!]]", "a"));
  CHECK(glob_match("[a-]", "-"));
  CHECK(glob_match("\\*", "*"));
  CHECK_FALSE(glob_match("\\*", "x"));
  CHECK_FALSE(glob_match("[abc", "a"));
  CHECK(glob_match("[[:alpha:]][[:digit:]]", "a1"));
  CHECK(glob_match("*a*b*c*d*e*f*g*h*i*j*k", std::string(40, 'a') + "bcdefghijk"));
  CHECK_FALSE(glob_match("*a*b*c*d*e*f*g*h*i*j*k*l*m", std::string(200, 'a')));
}
