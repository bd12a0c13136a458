#include <catch2/catch.hpp>

#include "tests/tools/git_fixture.hpp"

using dsv4::test::GitRepo;
using nlohmann::json;

namespace {

void history(GitRepo& repo) {
  repo.write("src/main.cpp", "int main() {\n  return 0;\n}\n");
  repo.write("src/util.cpp", "int add(int a, int b) { return a + b; }\n");
  repo.write("README.md", "# project\n\nSome text.\n");
  repo.write("logo.bin", std::string("\x89PNG\0\0\0\x01", 8));
  repo.write("to_rename.txt", "this file is renamed in the index, with enough text to be found\n");
  repo.commit_all("base");
  repo.write("README.md", "# project\n\nSome text, changed.\nAnd a line.\n");
  repo.commit_all("second");
}

}  // namespace

TEST_CASE("git_diff prints what git diff prints: unstaged, staged and against a base") {
  GitRepo repo;
  history(repo);
  repo.write("src/main.cpp", "int main() {\n  return 1;\n}\n");
  repo.write("src/util.cpp", "int add(int a, int b) { return a + b; }\nint sub(int a, int b);\n");
  repo.git("add src/util.cpp");
  repo.write("src/util.cpp", "int add(int a, int b) { return a + b; }\n");
  repo.write("logo.bin", std::string("\x89PNG\0\0\0\x02", 8));
  repo.git("mv to_rename.txt renamed.txt");
  repo.write("untracked.txt", "not in any diff\n");

  auto unstaged = repo.tool("git_diff", json::object());
  REQUIRE(unstaged["ok"] == true);
  CHECK(unstaged["patch"] == repo.git("diff"));
  CHECK_THAT(unstaged["patch"].get<std::string>(), Catch::Contains("Binary files a/logo.bin and b/logo.bin differ"));
  bool binary_listed = false;
  for (const auto& f : unstaged["files"])
    if (f["path"] == "logo.bin") binary_listed = f.value("binary", false);
  CHECK(binary_listed);

  auto staged = repo.tool("git_diff", {{"staged", true}});
  CHECK(staged["patch"] == repo.git("diff --cached"));
  CHECK_THAT(staged["patch"].get<std::string>(), Catch::Contains("rename from to_rename.txt"));

  auto base = repo.tool("git_diff", {{"base", "HEAD~1"}});
  CHECK(base["patch"] == repo.git("diff HEAD~1"));
  auto base_staged = repo.tool("git_diff", {{"base", "HEAD~1"}, {"staged", true}});
  CHECK(base_staged["patch"] == repo.git("diff --cached HEAD~1"));

  auto folder = repo.tool("git_diff", {{"paths", {"src"}}});
  CHECK(folder["patch"] == repo.git("diff -- src"));
  CHECK(folder["files"].size() == 2);
  auto file = repo.tool("git_diff", {{"paths", {"src/main.cpp"}}, {"base", "HEAD"}});
  CHECK(file["patch"] == repo.git("diff HEAD -- src/main.cpp"));
  CHECK(file["files"][0]["additions"] == 1);
  CHECK(file["files"][0]["deletions"] == 1);

  auto none = repo.tool("git_diff", {{"paths", {"README.md"}}});
  CHECK(none["patch"] == "");
  CHECK(none["files"].empty());
  CHECK(none.contains("note"));
}

TEST_CASE("git_diff handles names with spaces, newlines and bytes that are not UTF-8") {
  GitRepo repo;
  repo.write("with space.txt", "a\n");
  repo.write("new\nline.txt", "a\n");
  repo.write("caf\xe9.txt", "a\n");
  repo.write("latin1-content.txt", "caf\xe9\n");
  repo.commit_all("base");
  repo.write("with space.txt", "a\nb\n");
  repo.write("new\nline.txt", "a\nb\n");
  repo.write("caf\xe9.txt", "a\nb\n");
  repo.write("latin1-content.txt", "caf\xe9 au lait\n");

  auto diff = repo.tool("git_diff", {{"paths", {"with space.txt", "new\nline.txt", "\"caf\\351.txt\""}}});
  REQUIRE(diff["ok"] == true);
  CHECK(diff["patch"] == repo.git("diff -- 'with space.txt' 'new\nline.txt' $'caf\\xe9.txt'"));
  CHECK(diff["files"].size() == 3);

  // Content that is not UTF-8 arrives as U+FFFD, with a note, instead of breaking the JSON.
  auto content = repo.tool("git_diff", {{"paths", {"latin1-content.txt"}}});
  REQUIRE(content["ok"] == true);
  CHECK_THAT(content["patch"].get<std::string>(), Catch::Contains("+caf\xEF\xBF\xBD au lait"));
  CHECK_THAT(content["note"].get<std::string>(), Catch::Contains("U+FFFD"));
  CHECK(content.dump().size() > 0);
}

TEST_CASE("git_diff cuts a large patch and names what it left out") {
  GitRepo repo;
  std::string big;
  for (int i = 0; i < 4000; ++i) big += "line " + std::to_string(i) + " of a long file\n";
  for (int f = 0; f < 5; ++f) repo.write("big" + std::to_string(f) + ".txt", big);
  repo.commit_all("base");
  std::string changed;
  for (int i = 0; i < 4000; ++i) changed += "LINE " + std::to_string(i) + " of a long file\n";
  for (int f = 0; f < 5; ++f) repo.write("big" + std::to_string(f) + ".txt", changed);

  auto diff = repo.tool("git_diff", json::object());
  REQUIRE(diff["ok"] == true);
  CHECK(diff["truncated"] == true);
  auto patch = diff["patch"].get<std::string>();
  CHECK(patch.size() <= 64 * 1024);
  CHECK(repo.git("diff").starts_with(patch));
  CHECK_THAT(diff["note"].get<std::string>(), Catch::Contains("big4.txt"));
  REQUIRE(diff["files"].size() == 5);
  for (const auto& f : diff["files"]) CHECK(f["additions"] == 4000);
}

TEST_CASE("git_diff refuses paths outside the workspace and unknown revisions") {
  GitRepo repo;
  history(repo);
  auto outside = repo.tool("git_diff", {{"paths", {"/etc/passwd"}}});
  CHECK(outside["ok"] == false);
  CHECK_THAT(outside["error"].get<std::string>(), Catch::Contains("outside the workspace"));
  auto dotdot = repo.tool("git_diff", {{"paths", {"src/../../x"}}});
  CHECK(dotdot["ok"] == false);
  auto unknown = repo.tool("git_diff", {{"base", "no-such-branch"}});
  CHECK(unknown["ok"] == false);
  CHECK_THAT(unknown["error"].get<std::string>(), Catch::Contains("unknown revision 'no-such-branch'"));
}
