#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/file_tools_support.hpp"

using dsv4::test::call;
using dsv4::test::error_of;
using dsv4::test::put;
using dsv4::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

Json write(const TempDir& dir, const std::string& path, const std::string& content) {
  return call(dir.path(), "write_file", {{"path", path}, {"content", content}});
}

mode_t mode_of(const fs::path& p) {
  struct ::stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("write_file creates files and folders, then overwrites, reporting bytes and lines") {
  TempDir dir;
  auto created = write(dir, "a/b c/new.txt", "one\ntwo\nthree");
  REQUIRE(error_of(created) == "");
  CHECK(created["status"] == "created");
  CHECK(created["bytes"] == 13);
  CHECK(created["lines"] == 3);
  CHECK(created["path"] == "a/b c/new.txt");
  CHECK(dir.read("a/b c/new.txt") == "one\ntwo\nthree");
  CHECK(mode_of(dir / "a/b c/new.txt") == 0644);

  auto over = write(dir, "a/b c/new.txt", "");
  CHECK(over["status"] == "overwritten");
  CHECK(over["bytes"] == 0);
  CHECK(over["lines"] == 0);
  CHECK(dir.read("a/b c/new.txt").empty());

  const std::string bytes = "caf\xc3\xa9\r\nline two\r\n";
  auto crlf = write(dir, "crlf.txt", bytes);
  CHECK(crlf["lines"] == 2);
  CHECK(dir.read("crlf.txt") == bytes);
  // Nothing but the written files is left in the folders (no temporary files).
  CHECK(dsv4::test::snapshot(dir.path()).size() == 4);  // a, a/b c, its file, crlf.txt
}

TEST_CASE("write_file keeps the mode of the file it replaces and the symlink it writes through") {
  TempDir dir;
  put(dir.path(), "run.sh", "#!/bin/sh\necho old\n");
  fs::permissions(dir / "run.sh", static_cast<fs::perms>(0750));
  REQUIRE(error_of(write(dir, "run.sh", "#!/bin/sh\necho new\n")) == "");
  CHECK(mode_of(dir / "run.sh") == 0750);
  CHECK(dir.read("run.sh") == "#!/bin/sh\necho new\n");

  put(dir.path(), "docs/real.md", "old\n");
  fs::create_symlink("docs/real.md", dir / "README.md");
  REQUIRE(error_of(write(dir, "README.md", "new\n")) == "");
  CHECK(fs::is_symlink(dir / "README.md"));
  CHECK(dir.read("docs/real.md") == "new\n");
}

TEST_CASE("write_file refuses folders, the root, escapes and symlinks out of the workspace") {
  TempDir outside;
  TempDir dir;
  fs::create_directories(dir / "folder");
  CHECK_THAT(error_of(write(dir, "folder", "x")), Catch::Contains("is a folder"));
  CHECK_THAT(error_of(write(dir, ".", "x")), Catch::Contains("workspace root"));
  CHECK_THAT(error_of(write(dir, "../evil.txt", "x")), Catch::Contains("leaves the workspace"));
  CHECK_FALSE(fs::exists(dir.path().parent_path() / "evil.txt"));
  CHECK_THAT(error_of(write(dir, (outside / "evil.txt").string(), "x")),
             Catch::Contains("outside the workspace"));
  fs::create_symlink(outside.path(), dir / "out");
  CHECK_THAT(error_of(write(dir, "out/evil.txt", "x")), Catch::Contains("outside the workspace"));
  put(outside.path(), "target.txt", "keep\n");
  fs::create_symlink(outside / "target.txt", dir / "out-file");
  CHECK_THAT(error_of(write(dir, "out-file", "x")), Catch::Contains("outside the workspace"));
  CHECK(outside.read("target.txt") == "keep\n");
  CHECK_FALSE(fs::exists(outside / "evil.txt"));
  fs::create_symlink("loop", dir / "loop");
  CHECK_THAT(error_of(write(dir, "loop", "x")), Catch::Contains("symlink loop"));
}

TEST_CASE("write_file writes names that are not UTF-8 byte for byte and shows them escaped") {
  TempDir dir;
  const std::string name = "n\xff\xfe name\nline.txt";
  auto r = write(dir, name, "x\n");
  REQUIRE(error_of(r) == "");
  CHECK(r["path"] == "n\\xff\\xfe name\nline.txt");
  CHECK(dir.read(name) == "x\n");
}

TEST_CASE("dsv4 tool write_file works from the command line") {
  TempDir dir;
  auto r = dsv4::test::run_dsv4({"tool", "write_file", "--args",
                                 R"({"path":"x/y.txt","content":"hi\n"})", "--root",
                                 dir.path().string()});
  CHECK(r.exit_code == 0);
  CHECK(Json::parse(r.out)["status"] == "created");
  CHECK(dir.read("x/y.txt") == "hi\n");
}
