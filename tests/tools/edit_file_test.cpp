#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/file_tools_support.hpp"

using dsv4::test::call;
using dsv4::test::error_of;
using dsv4::test::put;
using dsv4::test::sh;
using dsv4::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

Json edit(const TempDir& dir, const std::string& path, const std::string& old_text,
          const std::string& new_text, bool all = false) {
  Json args{{"path", path}, {"old_string", old_text}, {"new_string", new_text}};
  if (all) args["replace_all"] = true;
  return call(dir.path(), "edit_file", args);
}

const std::string kCode =
    "#include <stdio.h>\n"
    "\n"
    "int main(void) {\n"
    "    int total = 0;\n"
    "    for (int i = 0; i < 10; ++i) {\n"
    "        total += i;\n"
    "    }\n"
    "    printf(\"%d\\n\", total);\n"
    "    return 0;\n"
    "}\n";

}  // namespace

TEST_CASE("edit_file replaces one exact occurrence and returns a diff git apply accepts") {
  TempDir dir;
  put(dir.path(), "src/main.c", kCode);
  put(dir.path(), "copy/src/main.c", kCode);
  auto r = edit(dir, "src/main.c", "        total += i;\n",
                "        total += i * i;\n        // squares\n");
  REQUIRE(error_of(r) == "");
  CHECK(r["replacements"] == 1);
  std::string expected = kCode;
  expected.replace(expected.find("total += i;"), 11, "total += i * i;\n        // squares");
  CHECK(dir.read("src/main.c") == expected);
  const auto diff = r["diff"].get<std::string>();
  CHECK_THAT(diff, Catch::StartsWith("--- a/src/main.c\n+++ b/src/main.c\n@@ -3,7 +3,8 @@\n"));
  put(dir.path(), "copy/change.diff", diff);
  sh("git apply change.diff", dir / "copy");
  CHECK(dir.read("copy/src/main.c") == expected);
}

TEST_CASE("edit_file refuses ambiguous, identical and missing text without touching the file") {
  TempDir dir;
  put(dir.path(), "f.txt", "x = 1\ny = 2\nx = 1\nz = 3\nx = 1\n");
  auto twice = edit(dir, "f.txt", "x = 1", "x = 9");
  CHECK_THAT(error_of(twice), Catch::Contains("occurs 3 times") &&
                                  Catch::Contains("at lines 1, 3, 5") &&
                                  Catch::Contains("replace_all"));
  CHECK_THAT(error_of(edit(dir, "f.txt", "y = 2", "y = 2")), Catch::Contains("the same"));
  CHECK_THAT(error_of(edit(dir, "nope.txt", "a", "b")), Catch::Contains("no file 'nope.txt'"));
  CHECK(dir.read("f.txt") == "x = 1\ny = 2\nx = 1\nz = 3\nx = 1\n");

  auto all = edit(dir, "f.txt", "x = 1", "x = 9", true);
  CHECK(all["replacements"] == 3);
  CHECK(dir.read("f.txt") == "x = 9\ny = 2\nx = 9\nz = 3\nx = 9\n");
}

TEST_CASE(
    "edit_file shows the closest lines when old_string is not found, with a whitespace hint") {
  TempDir dir;
  put(dir.path(), "main.c", kCode);
  // Two-space indentation instead of four and eight.
  auto ws = edit(dir, "main.c", "  for (int i = 0; i < 10; ++i) {\n    total += i;\n", "x");
  auto msg = error_of(ws);
  CHECK_THAT(msg, Catch::Contains("closest lines are 5-6"));
  CHECK_THAT(msg, Catch::Contains(
                      "     5\t    for (int i = 0; i < 10; ++i) {\n     6\t        total += i;\n"));
  CHECK_THAT(msg, Catch::Contains("only in whitespace"));

  auto typo = edit(dir, "main.c", "    printf(\"%d\\n\", totl);\n    return 0;\n", "x");
  CHECK_THAT(error_of(typo),
             Catch::Contains("closest lines are 8-9") && !Catch::Contains("only in whitespace"));

  auto numbered = edit(dir, "main.c", "     9\t    return 0;\n", "x");
  CHECK_THAT(error_of(numbered), Catch::Contains("line numbers as read_file shows them"));

  auto nothing = edit(dir, "main.c", "completely unrelated words\n", "x");
  CHECK_THAT(error_of(nothing), Catch::Contains("No similar lines"));
  CHECK(dir.read("main.c") == kCode);
}

TEST_CASE("edit_file keeps CRLF line endings when the model writes LF") {
  TempDir dir;
  put(dir.path(), "win.txt", "alpha\r\nbeta\r\ngamma\r\n");
  auto r = edit(dir, "win.txt", "alpha\nbeta\n", "alpha\nBETA\nbeta2\n");
  REQUIRE(error_of(r) == "");
  CHECK(dir.read("win.txt") == "alpha\r\nBETA\r\nbeta2\r\ngamma\r\n");
  CHECK(r["line_endings"] == "crlf");
  // A one-line old_string whose replacement adds a line break.
  REQUIRE(error_of(edit(dir, "win.txt", "gamma", "gamma\ndelta")) == "");
  CHECK(dir.read("win.txt") == "alpha\r\nBETA\r\nbeta2\r\ngamma\r\ndelta\r\n");
  // old_string sent with CRLF works as is.
  REQUIRE(error_of(edit(dir, "win.txt", "beta2\r\n", "")) == "");
  CHECK(dir.read("win.txt") == "alpha\r\nBETA\r\ngamma\r\ndelta\r\n");

  // A mixed file: the LF part stays LF, the CRLF part stays CRLF.
  put(dir.path(), "mixed.txt", "one\ntwo\nthree\r\nfour\r\n");
  REQUIRE(error_of(edit(dir, "mixed.txt", "one\ntwo\n", "one\n2\n")) == "");
  REQUIRE(error_of(edit(dir, "mixed.txt", "three\nfour\n", "3\n4\n")) == "");
  CHECK(dir.read("mixed.txt") == "one\n2\n3\r\n4\r\n");

  // CRLF text sent for an LF file is matched as LF.
  put(dir.path(), "unix.txt", "a\nb\n");
  REQUIRE(error_of(edit(dir, "unix.txt", "a\r\nb\r\n", "A\r\nB\r\n")) == "");
  CHECK(dir.read("unix.txt") == "A\nB\n");
}

TEST_CASE("edit_file handles files without final newline, invalid UTF-8, binary files and modes") {
  TempDir dir;
  put(dir.path(), "tail.txt", "first\nlast");
  auto tail = edit(dir, "tail.txt", "last", "LAST");
  CHECK(dir.read("tail.txt") == "first\nLAST");
  CHECK_THAT(tail["diff"].get<std::string>(), Catch::Contains("\\ No newline at end of file"));

  put(dir.path(), "latin1.txt", "caf\xe9\nprice: 10\n");
  auto latin = edit(dir, "latin1.txt", "price: 10", "price: 12");
  REQUIRE(error_of(latin) == "");
  CHECK(dir.read("latin1.txt") == "caf\xe9\nprice: 12\n");
  CHECK_THAT(latin["diff"].get<std::string>(), Catch::Contains(" caf\\xe9\n"));

  put(dir.path(), "blob.bin", std::string("ab\0cd", 5));
  CHECK_THAT(error_of(edit(dir, "blob.bin", "ab", "xy")), Catch::Contains("binary file"));

  put(dir.path(), "tool.sh", "echo 1\n");
  fs::permissions(dir / "tool.sh", static_cast<fs::perms>(0755));
  REQUIRE(error_of(edit(dir, "tool.sh", "1", "2")) == "");
  struct ::stat st {};
  ::stat((dir / "tool.sh").c_str(), &st);
  CHECK((st.st_mode & 07777) == 0755);

  fs::create_directories(dir / "d");
  CHECK_THAT(error_of(edit(dir, "d", "a", "b")), Catch::Contains("is a folder"));
  CHECK_THAT(error_of(edit(dir, "../x", "a", "b")), Catch::Contains("leaves the workspace"));
}

TEST_CASE("edit_file bounds the diff of a large replace_all and says so") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "value_" + std::to_string(i) + " = old_name;\n";
  put(dir.path(), "big.txt", text);
  auto r = edit(dir, "big.txt", "old_name", "new_name", true);
  REQUIRE(error_of(r) == "");
  CHECK(r["replacements"] == 20000);
  CHECK(r["diff_truncated"] == true);
  CHECK(r.dump().size() < 64 * 1024);
  CHECK(dir.read("big.txt").find("old_name") == std::string::npos);
}

TEST_CASE("dsv4 tool edit_file works from the command line") {
  TempDir dir;
  put(dir.path(), "a b.txt", "hello world\n");
  auto r = dsv4::test::run_dsv4({"tool", "edit_file", "--args",
                                 R"({"path":"a b.txt","old_string":"world","new_string":"there"})",
                                 "--root", dir.path().string()});
  CHECK(r.exit_code == 0);
  CHECK(dir.read("a b.txt") == "hello there\n");
  CHECK_THAT(Json::parse(r.out)["diff"].get<std::string>(),
             Catch::Contains("-hello world\n+hello there\n"));
}
