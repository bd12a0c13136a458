#include <catch2/catch.hpp>

#include <random>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/file_tools_support.hpp"
#include "tools/patch.hpp"

namespace patch = dsv4::tools::patch;
using dsv4::test::put;
using dsv4::test::sh;
using dsv4::test::TempDir;

namespace {

// A git repository in `dir` with `files` committed.
void commit_all(const TempDir& dir) {
  sh("git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm base",
     dir.path());
}

}  // namespace

TEST_CASE(
    "patch::parse reads what git diff writes: several files, new, deleted, renamed, odd names") {
  TempDir dir;
  put(dir.path(), "keep.txt", "one\ntwo\nthree\n");
  put(dir.path(), "gone.txt", "bye\n");
  put(dir.path(), "old name.txt", "a\nb\nc\nd\ne\nf\ng\n");
  put(dir.path(), "caf\xc3\xa9.txt", "x\n");
  put(dir.path(), "tail.txt", "no newline");
  commit_all(dir);
  put(dir.path(), "keep.txt", "one\n2\nthree\n");
  sh("rm gone.txt && git mv 'old name.txt' 'new name.txt'", dir.path());
  put(dir.path(), "new name.txt", "a\nb\nc\nd\ne\nf\nG\n");
  put(dir.path(), "sub/dir/new.txt", "fresh\n");
  put(dir.path(), "caf\xc3\xa9.txt", "y\n");
  put(dir.path(), "tail.txt", "no newline, still");
  sh("git add -A", dir.path());
  auto text = sh("git diff --cached -M HEAD", dir.path());
  auto files = patch::parse(text);
  REQUIRE(files.size() == 6);
  std::map<std::string, const patch::FilePatch*> by_path;
  for (const auto& f : files) by_path[f.path()] = &f;

  REQUIRE(by_path.count("caf\xc3\xa9.txt"));  // git writes it quoted with octal escapes
  CHECK(text.find("\"a/caf\\303\\251.txt\"") != std::string::npos);

  REQUIRE(by_path.count("gone.txt"));
  CHECK(by_path["gone.txt"]->deleted);
  CHECK(by_path["gone.txt"]->hunks.at(0).lines.at(0).text == "bye\n");

  REQUIRE(by_path.count("sub/dir/new.txt"));
  CHECK(by_path["sub/dir/new.txt"]->created);
  CHECK(by_path["sub/dir/new.txt"]->old_path.empty());

  REQUIRE(by_path.count("new name.txt"));
  const auto& renamed = *by_path["new name.txt"];
  CHECK(renamed.renamed());
  CHECK(renamed.old_path == "old name.txt");

  REQUIRE(by_path.count("tail.txt"));
  const auto& tail = by_path["tail.txt"]->hunks.at(0);
  REQUIRE(tail.lines.size() == 2);
  CHECK(tail.lines[0].text == "no newline");  // "\ No newline at end of file" applied
  CHECK(tail.lines[1].text == "no newline, still");
  CHECK(patch::apply(*by_path["tail.txt"], "no newline").text == "no newline, still");

  const auto& keep = *by_path["keep.txt"];
  CHECK(keep.hunks.at(0).header == "@@ -1,3 +1,3 @@");
  CHECK(patch::apply(keep, "one\ntwo\nthree\n").text == "one\n2\nthree\n");
}

TEST_CASE("patch::parse reads plain diff -u output with dates and p0 names") {
  TempDir dir;
  put(dir.path(), "v1.txt", "alpha\nbeta\ngamma\n");
  put(dir.path(), "v2.txt", "alpha\nBETA\ngamma\n");
  auto r = dsv4::test::run({"diff", "-u", "v1.txt", "v2.txt"}, dir.path());
  REQUIRE(r.exit_code == 1);
  auto files = patch::parse("Some preamble text\n" + r.out);
  REQUIRE(files.size() == 1);
  CHECK(files[0].old_path == "v1.txt");
  CHECK(files[0].new_path == "v2.txt");  // the date after the tab is not part of the name
  CHECK_FALSE(files[0].git);
  CHECK(patch::apply(files[0], "alpha\nbeta\ngamma\n").text == "alpha\nBETA\ngamma\n");
}

TEST_CASE("patch::parse keeps '--- ' and '+++ ' content lines inside a hunk") {
  // An SQL comment "-- x" removed and "++ y" added look like file headers.
  const std::string text =
      "--- a/q.sql\n+++ b/q.sql\n@@ -1,3 +1,3 @@\n select 1;\n--- old comment\n+++ new comment\n "
      "select 2;\n";
  auto files = patch::parse(text);
  REQUIRE(files.size() == 1);
  REQUIRE(files[0].hunks.size() == 1);
  CHECK(patch::apply(files[0], "select 1;\n-- old comment\nselect 2;\n").text ==
        "select 1;\n++ new comment\nselect 2;\n");
}

TEST_CASE(
    "patch::parse refuses text without file headers and malformed hunk headers, naming the line") {
  CHECK_THROWS_WITH(patch::parse("just some text\n"), Catch::Contains("no file header found"));
  CHECK_THROWS_WITH(patch::parse("@@ -1 +1 @@\n-a\n+b\n"),
                    Catch::Contains("patch line 1: hunk before any file header"));
  CHECK_THROWS_WITH(patch::parse("--- a/x\n+++ b/x\n@@ -one +1 @@\n-a\n+b\n"),
                    Catch::Contains("patch line 3: malformed hunk header"));
  CHECK_THROWS_WITH(patch::parse("--- /dev/null\n+++ /dev/null\n"), Catch::Contains("no path"));
  CHECK_THROWS_AS(patch::parse("--- \"a/unterminated\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"),
                  patch::ParseError);
}

TEST_CASE("patch::apply finds a hunk at the nearest offset and reports how far it moved") {
  auto files = patch::parse(
      "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n@@ -8,2 +8,2 @@\n h\n-i\n+I\n");
  // Three lines were added at the top since the diff was made.
  auto applied = patch::apply(files.at(0), "new1\nnew2\nnew3\na\nb\nc\nd\ne\nf\ng\nh\ni\n");
  CHECK(applied.text == "new1\nnew2\nnew3\na\nb\nC\nd\ne\nf\ng\nh\nI\n");
  CHECK(applied.offsets == std::vector<long>{3, 3});
  // With a repeated context, the occurrence nearest to the header wins.
  auto twice = patch::parse("--- a/f\n+++ b/f\n@@ -5,2 +5,2 @@\n x\n-y\n+Y\n");
  CHECK(patch::apply(twice.at(0), "x\ny\n1\n2\n3\nx\ny\n").text == "x\ny\n1\n2\n3\nx\nY\n");
}

TEST_CASE("patch::apply reports the first mismatching line where the hunk fits best") {
  auto files = patch::parse("--- a/f\n+++ b/f\n@@ -2,4 +2,4 @@\n b\n c\n-d\n+D\n e\n");
  try {
    patch::apply(files.at(0), "a\nb\nc\nd!\ne\nf\n");
    FAIL("the hunk should not apply");
  } catch (const patch::Mismatch& m) {
    CHECK(m.hunk == 0);
    CHECK(m.line == 4);
    CHECK(m.expected == "d\n");
    CHECK(m.found == "d!\n");
    CHECK_FALSE(m.at_end);
  }
  try {
    patch::apply(files.at(0), "a\nb\nc\n");
    FAIL("the hunk should not apply");
  } catch (const patch::Mismatch& m) {
    CHECK(m.line == 4);
    CHECK(m.at_end);
  }
}

TEST_CASE("patch::apply matches hunks with the file's line ends when their own do not fit") {
  auto files = patch::parse("--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n one\n-two\n+2\n+2.5\n");
  auto applied = patch::apply(files.at(0), "one\r\ntwo\r\nthree\r\n");
  CHECK(applied.line_ends_adapted);
  CHECK(applied.text == "one\r\n2\r\n2.5\r\nthree\r\n");
  // And the other way: a patch whose text went through CRLF, for an LF file.
  auto dos = patch::parse("--- a/f\r\n+++ b/f\r\n@@ -1,2 +1,2 @@\r\n one\r\n-two\r\n+2\r\n");
  auto lf = patch::apply(dos.at(0), "one\ntwo\n");
  CHECK(lf.line_ends_adapted);
  CHECK(lf.text == "one\n2\n");
  CHECK_FALSE(patch::apply(files.at(0), "one\ntwo\n").line_ends_adapted);
}

TEST_CASE("patch::parse repairs hunk counts that do not match the hunk's lines") {
  // The header says 2 old and 2 new lines; the hunk has 3 and 4.
  auto files = patch::parse("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n+B2\n c\n");
  REQUIRE(files.at(0).hunks.size() == 1);
  const auto& h = files[0].hunks[0];
  CHECK(h.counts_fixed);
  CHECK(h.old_count == 3);
  CHECK(h.new_count == 4);
  CHECK(patch::apply(files[0], "a\nb\nc\n").text == "a\nB\nB2\nc\n");
  // Fewer lines than promised, at the end of the patch.
  auto shorter = patch::parse("--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n");
  CHECK(shorter.at(0).hunks.at(0).counts_fixed);
  CHECK(patch::apply(shorter[0], "a\nb\nc\n").text == "a\nB\nc\n");
}

TEST_CASE("patch::parse marks binary patches") {
  TempDir dir;
  put(dir.path(), "img.bin", std::string("\x89PNG\r\n\x1a\n\0\0\0", 11));
  commit_all(dir);
  put(dir.path(), "img.bin", std::string("\x89PNG\r\n\x1a\n\0\1\0", 11));
  auto plain = sh("git diff", dir.path());
  auto binary = sh("git diff --binary", dir.path());
  CHECK(patch::parse(plain).at(0).binary);
  CHECK(patch::parse(binary).at(0).binary);
}

TEST_CASE("patch::parse and patch::apply fail only with their own errors on garbage") {
  const std::vector<std::string> pool = {"diff --git a/x b/x\n",
                                         "diff --git \"a/\\\n",
                                         "--- a/x\n",
                                         "+++ b/x\n",
                                         "--- /dev/null\n",
                                         "+++ /dev/null\n",
                                         "@@ -1,2 +1,2 @@\n",
                                         "@@ -0,0 +1 @@\n",
                                         "@@ -3 +3,0 @@\n",
                                         "@@ -99999999999999999999999 +1 @@\n",
                                         "@@ -1,999999 +1,1 @@\n",
                                         " x\n",
                                         "-x\n",
                                         "+y\n",
                                         "\n",
                                         "\\ No newline at end of file\n",
                                         "rename from a\n",
                                         "rename to b\n",
                                         "new file mode 100755\n",
                                         "deleted file mode 100644\n",
                                         "Binary files a/x and b/x differ\n",
                                         "-- \n",
                                         "garbage\n",
                                         std::string("\0\xff\n", 3),
                                         "@@ -1 +1 @@",
                                         "--- \"a/unterminated\n"};
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    for (int n = 1 + static_cast<int>(rng() % 12); n > 0; --n) text += pool[rng() % pool.size()];
    INFO(text);
    try {
      for (const auto& f : patch::parse(text)) patch::apply(f, "x\ny\nx\n");
    } catch (const patch::ParseError&) {
    } catch (const patch::Mismatch&) {
    }
  }
}
