#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/file_tools_support.hpp"
#include "tools/registry.hpp"

using dsv4::test::call;
using dsv4::test::error_of;
using dsv4::test::put;
using dsv4::test::sh;
using dsv4::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

Json read(const TempDir& dir, const std::string& path, Json extra = Json::object()) {
  extra["path"] = path;
  return call(dir.path(), "read_file", extra);
}

}  // namespace

TEST_CASE("read_file numbers lines exactly as cat -n does") {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 1200; ++i) text += "row " + std::to_string(i) + "\twith a tab\n";
  put(dir.path(), "f.txt", text);
  auto r = read(dir, "f.txt");
  REQUIRE(error_of(r) == "");
  CHECK(r["content"] == sh("cat -n f.txt", dir.path()));
  CHECK(r["total_lines"] == 1200);
  CHECK(r["more"] == false);
  CHECK(r["line_endings"] == "lf");
  CHECK(r["final_newline"] == true);
  CHECK_FALSE(r.contains("notes"));

  auto page = read(dir, "f.txt", {{"offset", 1000}, {"limit", 5}});
  CHECK(page["content"] == sh("cat -n f.txt | sed -n 1000,1004p", dir.path()));
  CHECK(page["more"] == true);
  CHECK(page["next_offset"] == 1005);
  CHECK(page["last_line"] == 1004);
}

TEST_CASE("read_file pages through a 50 MB file with bounded results") {
  TempDir dir;
  {
    std::ofstream out(dir / "big.log", std::ios::binary);
    std::string line;
    for (int i = 1; i <= 2'500'000; ++i) {
      line = "entry " + std::to_string(i) + " ....................\n";
      out << line;
    }
  }
  const auto size = fs::file_size(dir / "big.log");
  REQUIRE(size > 50'000'000);
  const auto lines = std::stoul(sh("wc -l < big.log", dir.path()));

  auto first = read(dir, "big.log");
  CHECK(first["total_lines"] == lines);
  CHECK(first["first_line"] == 1);
  CHECK(first["last_line"] == 2000);
  CHECK(first["next_offset"] == 2001);
  CHECK(first["more"] == true);
  CHECK(first["size_bytes"] == size);
  CHECK(first.dump().size() < dsv4::tools::kMaxResultBytes);

  auto next = read(dir, "big.log", {{"offset", 2001}, {"limit", 3}});
  CHECK(next["content"] == sh("cat -n big.log | sed -n 2001,2003p", dir.path()));

  auto last = read(dir, "big.log", {{"offset", lines - 1}});
  CHECK(last["content"] == sh("cat -n big.log | tail -n 2", dir.path()));
  CHECK(last["more"] == false);
  CHECK_FALSE(last.contains("next_offset"));

  auto past = read(dir, "big.log", {{"offset", lines + 1}});
  CHECK_THAT(error_of(past),
             Catch::Contains("past the end") && Catch::Contains(std::to_string(lines) + " lines"));
}

TEST_CASE("read_file stops a page at its byte cap and cuts very long lines, saying so") {
  TempDir dir;
  std::string wide;
  for (int i = 1; i <= 500; ++i) wide += std::string(1000, 'a' + i % 26) + "\n";
  put(dir.path(), "wide.txt", wide);
  auto r = read(dir, "wide.txt");
  const auto last = r["last_line"].get<size_t>();
  CHECK(last < 500);
  CHECK(last > 50);
  CHECK(r["next_offset"] == last + 1);
  CHECK(r["content"] == sh("cat -n wide.txt | head -n " + std::to_string(last), dir.path()));
  auto rest = read(dir, "wide.txt", {{"offset", last + 1}});
  CHECK(rest["first_line"] == last + 1);

  // One 20 MB line without any newline (minified data).
  {
    std::ofstream out(dir / "one.min.js", std::ios::binary);
    for (int i = 0; i < 2'000'000; ++i) out << "var x=1;\xc3\xa9";
  }
  auto one = read(dir, "one.min.js");
  REQUIRE(error_of(one) == "");
  CHECK(one["total_lines"] == 1);
  CHECK(one["final_newline"] == false);
  CHECK(one.dump().size() < 10000);
  CHECK_THAT(one["content"].get<std::string>(),
             Catch::Contains("[... line cut: 20000000 bytes in all]"));
  CHECK_THAT(one["notes"].dump(), Catch::Contains("line 1 is 20000000 bytes long"));
}

TEST_CASE("read_file refuses binary files, naming their size and type") {
  TempDir dir;
  put(dir.path(), "pic.png",
      std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(3000, '\x01'));
  auto png = read(dir, "pic.png");
  CHECK_THAT(error_of(png), Catch::Contains("binary file (PNG image, 3016 bytes)"));
  put(dir.path(), "data.bin", std::string("text then a NUL\0byte", 20));
  CHECK_THAT(error_of(read(dir, "data.bin")),
             Catch::Contains("binary file (binary data, 20 bytes)"));
  std::string noise;
  for (int i = 0; i < 4096; ++i)
    noise += static_cast<char>(0x80 + (i * 7) % 0x40 + (i % 3 == 0 ? 1 : 0));
  put(dir.path(), "noise", noise);
  CHECK_THAT(error_of(read(dir, "noise")), Catch::Contains("binary file"));
  put(dir.path(), "utf16.txt", std::string("\xff\xfeh\0i\0", 6));
  CHECK_THAT(error_of(read(dir, "utf16.txt")), Catch::Contains("UTF-16 text"));
}

TEST_CASE(
    "read_file shows invalid UTF-8 escaped and handles odd names, CRLF, missing final newlines and "
    "empty files") {
  TempDir dir;
  put(dir.path(), "latin1.txt", "caf\xe9 cr\xe8me\nok \xc3\xa9\n");
  auto latin = read(dir, "latin1.txt");
  CHECK(latin["content"] == "     1\tcaf\\xe9 cr\\xe8me\n     2\tok \xc3\xa9\n");
  CHECK_THAT(latin["notes"].dump(), Catch::Contains("not valid UTF-8"));

  const std::string odd_name = "we\xffird name\nwith newline.txt";
  put(dir.path(), "sub dir/" + odd_name, "inside\n");
  auto odd = read(dir, "sub dir/" + odd_name);
  REQUIRE(error_of(odd) == "");
  CHECK(odd["path"] == "sub dir/we\\xffird name\nwith newline.txt");
  CHECK(odd["content"] == "     1\tinside\n");

  put(dir.path(), "dos.txt", "one\r\ntwo\r\n");
  auto dos = read(dir, "dos.txt");
  CHECK(dos["content"] == "     1\tone\n     2\ttwo\n");
  CHECK(dos["line_endings"] == "crlf");
  put(dir.path(), "mixed.txt", "one\r\ntwo\nthree");
  auto mixed = read(dir, "mixed.txt");
  CHECK(mixed["line_endings"] == "mixed");
  CHECK(mixed["final_newline"] == false);
  CHECK(mixed["content"] == "     1\tone\n     2\ttwo\n     3\tthree\n");
  CHECK_THAT(mixed["notes"].dump(), Catch::Contains("does not end with a newline"));

  put(dir.path(), "empty.txt", "");
  auto empty = read(dir, "empty.txt");
  CHECK(empty["ok"] == true);
  CHECK(empty["content"] == "");
  CHECK(empty["total_lines"] == 0);
  CHECK_THAT(empty["notes"].dump(), Catch::Contains("empty"));
}

TEST_CASE(
    "read_file refuses folders, missing files, escapes, symlink loops and FIFOs with clear "
    "errors") {
  TempDir outside;
  put(outside.path(), "secret.txt", "secret\n");
  TempDir dir;
  fs::create_directories(dir / "folder");
  CHECK_THAT(error_of(read(dir, "folder")),
             Catch::Contains("is a folder") && Catch::Contains("list_files"));
  CHECK_THAT(error_of(read(dir, "nope.txt")), Catch::Contains("no file 'nope.txt'"));
  CHECK_THAT(error_of(read(dir, "../x")), Catch::Contains("leaves the workspace"));
  CHECK_THAT(error_of(read(dir, (outside / "secret.txt").string())),
             Catch::Contains("outside the workspace"));
  fs::create_symlink(outside / "secret.txt", dir / "link");
  CHECK_THAT(error_of(read(dir, "link")), Catch::Contains("outside the workspace"));
  fs::create_symlink("../" + outside.path().filename().string() + "/secret.txt", dir / "rel-link");
  CHECK_THAT(error_of(read(dir, "rel-link")), Catch::Contains("outside the workspace"));
  fs::create_symlink("loop-b", dir / "loop-a");
  fs::create_symlink("loop-a", dir / "loop-b");
  CHECK_THAT(error_of(read(dir, "loop-a")), Catch::Contains("symlink loop"));
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  CHECK_THAT(error_of(read(dir, "pipe")), Catch::Contains("named pipe"));
  put(dir.path(), "real.txt", "real\n");
  fs::create_symlink("real.txt", dir / "inside-link");
  CHECK(read(dir, "inside-link")["content"] == "     1\treal\n");
  CHECK(read(dir, (dir / "real.txt").string())["path"] == "real.txt");
}

TEST_CASE("dsv4 tool read_file works from the command line") {
  TempDir dir;
  put(dir.path(), "with space.txt", "hello\nworld\n");
  auto r = dsv4::test::run_dsv4({"tool", "read_file", "--args",
                                 R"({"path":"with space.txt","offset":2})", "--root",
                                 dir.path().string()});
  CHECK(r.exit_code == 0);
  auto out = Json::parse(r.out);
  CHECK(out["content"] == "     2\tworld\n");
  auto missing = dsv4::test::run_dsv4(
      {"tool", "read_file", "--args", R"({"path":"nope"})", "--root", dir.path().string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.out, Catch::Contains("no file 'nope'"));
}

TEST_CASE("file tools accept names that are not UTF-8 back in the \\xNN form their results show") {
  TempDir dir;
  put(dir.path(), "n\xff.txt", "odd\n");
  auto listed = read(dir, "n\xff.txt");
  REQUIRE(listed["path"] == "n\\xff.txt");
  auto back = read(dir, listed["path"].get<std::string>());
  CHECK(back["content"] == "     1\todd\n");
  CHECK(error_of(call(dir.path(), "edit_file",
                      {{"path", "n\\xff.txt"}, {"old_string", "odd"}, {"new_string", "even"}})) ==
        "");
  CHECK(dir.read("n\xff.txt") == "even\n");
  // Errors that quote such names are valid UTF-8 too (call() checks every result).
  CHECK_THAT(error_of(read(dir, "missing\xfe")), Catch::Contains("missing\\xfe"));
  CHECK_THAT(error_of(read(dir, "../\xfe")), Catch::Contains("leaves the workspace"));
  CHECK_THAT(error_of(call(dir.path(), "write_file", {{"path", "/\xfe/x"}, {"content", ""}})),
             Catch::Contains("outside the workspace"));
}
