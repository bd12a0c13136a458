// list_files and its glob filter, checked against rg --files on the same trees.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/walk_support.hpp"
#include "tools/glob.hpp"
#include "tools/registry.hpp"

namespace {

using dsv4::test::TempDir;
using dsv4::tools::Json;

const std::vector<std::string> kTree = {
    "README.md", "src/main.c", "src/util.h", "src/lib/a.c", "src/lib/b.cpp", "src/lib/t/x_test.c",
    "docs/guide.md", "docs/img/logo.png", "tests/test_a.py", "tests/data/in.txt", "build/out.o",
    ".github/ci.yml", "empty/", "link -> src",
};

Json list(const dsv4::sandbox::Workspace& ws, const Json& args) {
  dsv4::tools::ToolContext ctx{ws};
  return dsv4::tools::call_tool(*dsv4::tools::find_tool("list_files"), args, ctx);
}

std::set<std::string> files_of(const Json& result) {
  std::set<std::string> out;
  for (auto& e : result["entries"]) {
    std::string s = e;
    if (!s.ends_with('/') && s != "link") out.insert(s);
  }
  return out;
}

}  // namespace

TEST_CASE("list_files: sorted, folders marked, ignores and hidden names like rg --files") {
  TempDir dir;
  dsv4::test::sh("git init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), kTree);
  dir.write(".gitignore", "build/\n*.png\n");
  dsv4::sandbox::Workspace ws(dir.path());
  auto r = list(ws, Json::object());
  REQUIRE(r["ok"] == true);
  std::vector<std::string> entries = r["entries"];
  CHECK(std::is_sorted(entries.begin(), entries.end()));
  CHECK(std::count(entries.begin(), entries.end(), "src/lib/") == 1);
  CHECK(std::count(entries.begin(), entries.end(), "empty/") == 1);
  CHECK(std::count(entries.begin(), entries.end(), "link") == 1);  // shown, not followed
  CHECK(files_of(r) == dsv4::test::rg_files(dir.path()));
  CHECK(r["truncated"] == false);
}

TEST_CASE("list_files: path, depth and glob narrow the listing; globs agree with rg -g") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), kTree);
  dsv4::sandbox::Workspace ws(dir.path());
  auto r = list(ws, {{"path", "src"}, {"depth", 1}});
  CHECK(r["entries"] == Json{"src/lib/", "src/main.c", "src/util.h"});
  for (const char* glob : {"*.c", "*.{c,h}", "src/lib/**/*.c", "lib/**/*.c", "**/t/*", "src/*.h", "[a-b].*", "?ain.c"}) {
    INFO("glob " << glob);
    auto ours = files_of(list(ws, {{"path", "src"}, {"glob", glob}}));
    auto rg = dsv4::test::rg_files(dir.path(), std::string("-g '") + glob + "' src");
    CHECK(ours == rg);
  }
  CHECK(list(ws, {{"glob", "*.md"}})["entries"] == Json{"README.md", "docs/guide.md"});
  auto bad = list(ws, {{"glob", "{a,b"}});
  CHECK(bad["ok"] == false);
  CHECK(list(ws, {{"path", "README.md"}})["ok"] == false);
  CHECK(list(ws, {{"path", "nope"}})["ok"] == false);
  CHECK(list(ws, {{"path", "/etc"}})["ok"] == false);
}

TEST_CASE("list_files: a big tree is cut at the cap with a note, in path order") {
  TempDir dir;
  std::vector<std::string> many;
  for (int i = 0; i < 1200; ++i) many.push_back("d/f" + std::to_string(10000 + i));
  dsv4::test::make_tree(dir.path(), many);
  dsv4::sandbox::Workspace ws(dir.path());
  auto r = list(ws, Json::object());
  CHECK(r["truncated"] == true);
  CHECK(r["entries"].size() == 1000);
  CHECK(r["entries"][0] == "d/");
  CHECK(r["entries"][999] == "d/f10998");
  CHECK_THAT(r["note"].get<std::string>(), Catch::Contains("narrow"));
}

TEST_CASE("PathGlob: names at any depth without '/', paths with it, braces nest") {
  using dsv4::tools::PathGlob;
  CHECK(PathGlob("*.c").matches("a/b/c.c"));
  CHECK_FALSE(PathGlob("*.c").matches("a/b/c.h"));
  CHECK(PathGlob("a/*.c").matches("a/x.c"));
  CHECK_FALSE(PathGlob("a/*.c").matches("a/b/x.c"));
  CHECK(PathGlob("a/**/*.c").matches("a/b/x.c"));
  CHECK(PathGlob("{src,lib}/**/*.{c,h{,pp}}").matches("lib/x/y.hpp"));
  CHECK(PathGlob("{src,lib}/**/*.{c,h{,pp}}").matches("src/y.h"));
  CHECK_FALSE(PathGlob("{src,lib}/**/*.{c,h{,pp}}").matches("doc/y.h"));
  CHECK(PathGlob("\\{a}").matches("{a}"));
  CHECK_THROWS_WITH(PathGlob("{a,b"), Catch::Contains("position 0"));
  CHECK_THROWS_WITH(PathGlob("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}"),
                    Catch::Contains("more than"));
}

TEST_CASE("dsv4 tool list_files prints the listing as JSON, names with odd bytes included") {
  TempDir dir;
  dsv4::test::make_tree(dir.path(), {"a b/c.txt", "caf\xE9.txt", "new\nline.txt"});
  auto r = dsv4::test::run_dsv4({"tool", "list_files", "--root", dir.path().string(), "--args", "{}"});
  REQUIRE(r.exit_code == 0);
  auto j = Json::parse(r.out);
  CHECK(j["entries"] == Json{"a b/", "a b/c.txt", "caf\\xe9.txt", "new\nline.txt"});
  auto bad = dsv4::test::run_dsv4({"tool", "list_files", "--root", dir.path().string(), "--args",
                                   R"({"depth": 0})"});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("depth"));
}
