#include <catch2/catch.hpp>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/file_tools_support.hpp"

using dsv4::test::call;
using dsv4::test::error_of;
using dsv4::test::put;
using dsv4::test::sh;
using dsv4::test::snapshot;
using dsv4::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

Json apply_to(const TempDir& dir, const std::string& patch) {
  return call(dir.path(), "apply_patch", {{"patch", patch}});
}

std::string numbered_lines(const std::string& prefix, int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += prefix + " " + std::to_string(i) + "\n";
  return s;
}

// The files of a small project before a change.
void write_base(const fs::path& dir) {
  put(dir, "src/app.py", "import os\n\n" + numbered_lines("def f", 40) + "print('end')\n");
  put(dir, "src/util.py", numbered_lines("util", 12));
  put(dir, "docs/old guide.md", "# Guide\n\n" + numbered_lines("step", 8));
  put(dir, "obsolete.txt", "remove me\nand me\n");
  put(dir, "win.bat", "@echo off\r\necho one\r\necho two\r\n");
  put(dir, "tail.txt", "last line without newline");
  put(dir, "caf\xc3\xa9 name.txt", "unicode name\n");
  put(dir, "q.sql", "select 1;\n-- old comment\nselect 2;\n");
  put(dir, "LICENSE", numbered_lines("license term", 20));
  put(dir, "empty.log", "");
}

// The same project after a change touching every kind of file operation.
void write_change(const fs::path& dir) {
  auto app = "import os\nimport sys\n\n" + numbered_lines("def f", 40) + "print('end')\n";
  app.replace(app.find("def f 20\n"), 9, "def f 20  # changed\n");
  app.replace(app.find("def f 35\n"), 9, "");
  put(dir, "src/app.py", app);
  put(dir, "src/util.py", numbered_lines("util", 12) + "util extra\n");
  fs::rename(dir / "docs/old guide.md", dir / "docs/new guide.md");
  auto guide = "# Guide\n\n" + numbered_lines("step", 8);
  guide.replace(guide.find("step 8"), 6, "step eight");
  put(dir, "docs/new guide.md", guide);
  fs::remove(dir / "obsolete.txt");
  put(dir, "win.bat", "@echo off\r\necho one\r\necho 1.5\r\necho two\r\n");
  put(dir, "tail.txt", "last line, still without newline");
  put(dir, "caf\xc3\xa9 name.txt", "unicode name\nmore\n");
  put(dir, "pkg/new module/__init__.py", "VERSION = '1.0'\n");
  put(dir, "q.sql", "select 1;\n++ new comment\nselect 2;\n");
  fs::rename(dir / "LICENSE", dir / "LICENSE.txt");  // a pure rename: no hunks at all
  fs::remove(dir / "empty.log");                     // deleting an empty file: no hunks either
}

// `git diff` of the change, made in a scratch repository.
std::string git_diff_of_change(const std::string& options) {
  TempDir repo;
  write_base(repo.path());
  sh("git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm base",
     repo.path());
  write_change(repo.path());
  sh("git add -A", repo.path());
  return sh("git diff --cached " + options, repo.path());
}

}  // namespace

TEST_CASE(
    "apply_patch gives byte for byte what git apply gives, for git diff output of many kinds") {
  for (const std::string options :
       {"-M", "--no-renames", "--no-prefix -M", "-U1 -M", "-U0 --no-renames"}) {
    INFO("git diff --cached " << options);
    const std::string patch = git_diff_of_change(options);
    TempDir by_git, by_us;
    write_base(by_git.path());
    write_base(by_us.path());
    put(by_git.path(), "../" + by_git.path().filename().string() + ".diff", patch);
    sh("git apply --unidiff-zero " +
           std::string(options.find("no-prefix") != std::string::npos ? "-p0 " : "") + "../" +
           by_git.path().filename().string() + ".diff",
       by_git.path());
    fs::remove(by_git.path().parent_path() / (by_git.path().filename().string() + ".diff"));
    auto result = apply_to(by_us, patch);
    REQUIRE(error_of(result) == "");
    CHECK(snapshot(by_us.path()) == snapshot(by_git.path()));
    // And both equal the change itself.
    TempDir expected;
    write_base(expected.path());
    write_change(expected.path());
    CHECK(snapshot(by_us.path()) == snapshot(expected.path()));
  }
}

TEST_CASE("apply_patch summarizes each file: status, added and removed lines") {
  TempDir dir;
  write_base(dir.path());
  auto r = apply_to(dir, git_diff_of_change("-M"));
  REQUIRE(error_of(r) == "");
  std::map<std::string, Json> by_path;
  for (const auto& f : r["files"]) by_path[f["path"]] = f;
  CHECK(by_path.at("src/app.py")["status"] == "modified");
  CHECK(by_path.at("src/app.py")["added"] == 2);
  CHECK(by_path.at("src/app.py")["removed"] == 2);
  CHECK(by_path.at("obsolete.txt")["status"] == "deleted");
  CHECK(by_path.at("obsolete.txt")["removed"] == 2);
  CHECK(by_path.at("pkg/new module/__init__.py")["status"] == "created");
  CHECK(by_path.at("docs/new guide.md")["status"] == "renamed");
  CHECK(by_path.at("docs/new guide.md")["from"] == "docs/old guide.md");
  CHECK(r["summary"] == "11 files changed: 6 modified, 1 created, 2 deleted, 2 renamed");
}

TEST_CASE("apply_patch changes nothing when any hunk of any file does not apply, and says where") {
  TempDir dir;
  write_base(dir.path());
  auto util = numbered_lines("util", 12);
  util.replace(util.find("util 11"), 7, "util ELEVEN");  // the file changed since the diff
  put(dir.path(), "src/util.py", util);
  const auto before = snapshot(dir.path());
  auto r = apply_to(dir, git_diff_of_change("-M"));
  auto msg = error_of(r);
  CHECK_THAT(
      msg, Catch::StartsWith("nothing was changed: 'src/util.py': hunk 1 of 1 (@@ -10,3 +10,4 @@"));
  CHECK_THAT(msg, Catch::Contains("line 11 should be \"util 11\" but is \"util ELEVEN\""));
  CHECK(snapshot(dir.path()) == before);

  // The last file of a patch failing still leaves the earlier ones untouched.
  const std::string two_files =
      "--- a/src/util.py\n+++ b/src/util.py\n@@ -1,2 +1,2 @@\n-util 1\n+UTIL 1\n util 2\n"
      "--- a/tail.txt\n+++ b/tail.txt\n@@ -1 +1 @@\n-something else\n+x\n";
  auto second = apply_to(dir, two_files);
  CHECK_THAT(error_of(second), Catch::Contains("'tail.txt': hunk 1 of 1") &&
                                   Catch::Contains("should be \"something else\"") &&
                                   !Catch::Contains("the file ends before it"));
  CHECK(snapshot(dir.path()) == before);
}

TEST_CASE(
    "apply_patch refuses creating what exists, changing what is missing, partial deletes and "
    "escapes") {
  TempDir dir;
  write_base(dir.path());
  const auto before = snapshot(dir.path());
  CHECK_THAT(error_of(apply_to(dir, "--- /dev/null\n+++ b/src/util.py\n@@ -0,0 +1 @@\n+x\n")),
             Catch::Contains("'src/util.py' already exists"));
  CHECK_THAT(error_of(apply_to(dir, "--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-a\n+b\n")),
             Catch::Contains("'missing.txt' does not exist"));
  CHECK_THAT(
      error_of(apply_to(dir, "--- a/obsolete.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-remove me\n")),
      Catch::Contains("does not remove all of its lines"));
  CHECK_THAT(
      error_of(apply_to(dir, "--- a/../outside.txt\n+++ b/../outside.txt\n@@ -0,0 +1 @@\n+x\n")),
      Catch::Contains("leaves the workspace"));
  CHECK_THAT(error_of(apply_to(dir,
                               "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+x\n"
                               "--- /dev/null\n+++ /tmp/abs.txt\n@@ -0,0 +1 @@\n+x\n")),
             Catch::Contains("outside the workspace"));
  CHECK_THAT(error_of(apply_to(dir, "this is not a diff\n")),
             Catch::Contains("no file header found"));
  CHECK(snapshot(dir.path()) == before);
}

TEST_CASE("apply_patch applies hunks at an offset and LF hunks to CRLF files, noting both") {
  TempDir dir;
  put(dir.path(), "f.txt", "new top 1\nnew top 2\n" + numbered_lines("line", 10));
  put(dir.path(), "dos.txt", "a\r\nb\r\nc\r\n");
  auto r =
      apply_to(dir,
               "--- a/f.txt\n+++ b/f.txt\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+LINE 5\n line 6\n"
               "--- a/dos.txt\n+++ b/dos.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  REQUIRE(error_of(r) == "");
  auto f = numbered_lines("line", 10);
  f.replace(f.find("line 5"), 6, "LINE 5");
  CHECK(dir.read("f.txt") == "new top 1\nnew top 2\n" + f);
  CHECK(dir.read("dos.txt") == "a\r\nB\r\nc\r\n");
  CHECK_THAT(r["files"][0]["notes"].dump(), Catch::Contains("hunk 1 applied 2 lines below"));
  CHECK_THAT(r["files"][1]["notes"].dump(), Catch::Contains("line ends differ"));
}

TEST_CASE("apply_patch creates a file with its git header alone and notes modes it does not set") {
  TempDir dir;
  auto r =
      apply_to(dir,
               "diff --git a/empty.txt b/empty.txt\nnew file mode 100644\nindex 0000000..e69de29\n"
               "diff --git a/run.sh b/run.sh\nnew file mode 100755\n--- /dev/null\n+++ b/run.sh\n"
               "@@ -0,0 +1 @@\n+echo hi\n");
  REQUIRE(error_of(r) == "");
  CHECK(dir.read("empty.txt").empty());
  CHECK(dir.read("run.sh") == "echo hi\n");
  CHECK_FALSE(r["files"][0].contains("notes"));
  CHECK_THAT(r["files"][1]["notes"].dump(), Catch::Contains("mode 100755"));
}

TEST_CASE("apply_patch applies two sections for the same file one after the other") {
  TempDir dir;
  put(dir.path(), "f.txt", "a\nb\nc\n");
  auto r = apply_to(dir,
                    "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
                    "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n-B\n+BB\n c\n");
  REQUIRE(error_of(r) == "");
  CHECK(dir.read("f.txt") == "a\nBB\nc\n");
}

TEST_CASE("apply_patch refuses binary patches and handles files whose names are not UTF-8") {
  TempDir repo;
  put(repo.path(), "img.png", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  put(repo.path(), "n\xff.txt", "old\n");
  sh("git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm base",
     repo.path());
  put(repo.path(), "img.png", std::string("\x89PNG\r\n\x1a\n\0\1", 10));
  put(repo.path(), "n\xff.txt", "new\n");
  auto binary = sh("git diff --binary -- img.png", repo.path());
  CHECK_THAT(error_of(apply_to(repo, binary)), Catch::Contains("binary patch"));
  auto odd = sh("git diff -- 'n\xff.txt'", repo.path());
  CHECK_THAT(odd, Catch::Contains("\"a/n\\377.txt\""));
  sh("git checkout -q -- 'n\xff.txt'", repo.path());
  auto r = apply_to(repo, odd);
  REQUIRE(error_of(r) == "");
  CHECK(r["files"][0]["path"] == "n\\xff.txt");
  CHECK(repo.read("n\xff.txt") == "new\n");
}

TEST_CASE("dsv4 tool apply_patch works from the command line") {
  TempDir dir;
  put(dir.path(), "hello.txt", "hello\n");
  const Json args{
      {"patch", "--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1,2 @@\n-hello\n+HELLO\n+world\n"}};
  auto r = dsv4::test::run_dsv4(
      {"tool", "apply_patch", "--args", args.dump(), "--root", dir.path().string()});
  CHECK(r.exit_code == 0);
  CHECK(dir.read("hello.txt") == "HELLO\nworld\n");
  auto again = dsv4::test::run_dsv4(
      {"tool", "apply_patch", "--args", args.dump(), "--root", dir.path().string()});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.out, Catch::Contains("nothing was changed"));
}
