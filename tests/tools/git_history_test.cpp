// git_log, git_show and git_blame against git log, git show and git blame --porcelain.
#include <catch2/catch.hpp>

#include <sstream>

#include "tests/tools/git_fixture.hpp"

using dsv4::test::GitRepo;
using dsv4::test::trim;
using nlohmann::json;

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

std::vector<std::string> ids(const json& log) {
  std::vector<std::string> out;
  for (const auto& c : log["commits"]) out.push_back(c["id"]);
  return out;
}

// A history with a side branch merged back, touching different files on each side.
void branchy_history(GitRepo& repo) {
  repo.write("app/core.cpp", "core 1\n");
  repo.write("docs/guide.md", "guide 1\n");
  repo.commit_all("Start the project");
  repo.git("checkout -q -b feature");
  repo.write("app/core.cpp", "core 1\nfeature\n");
  repo.commit_all("Feature work\n\nThe body explains why.\nOver two lines.");
  repo.write("docs/guide.md", "guide 1\nfeature docs\n");
  repo.commit_all("Document the feature");
  repo.git("checkout -q main");
  repo.write("docs/other.md", "other\n");
  repo.commit_all("Other docs");
  repo.git("merge -q --no-edit feature");
  repo.write("app/core.cpp", "core 2\nfeature\n");
  repo.commit_all("Core update");
}

}  // namespace

TEST_CASE("git_log lists what git log lists, with the same metadata") {
  GitRepo repo;
  branchy_history(repo);
  auto log = repo.tool("git_log", json::object());
  REQUIRE(log["ok"] == true);
  auto expected = split(trim(repo.git("log --format=%H")), '\n');
  CHECK(ids(log) == expected);

  auto fields = split(repo.git("log -z --format=%H%x01%h%x01%an%x01%ae%x01%aI%x01%s%x01%b"), '\0');
  REQUIRE(fields.size() == log["commits"].size());
  for (size_t i = 0; i < fields.size(); ++i) {
    auto f = split(fields[i], '\x01');
    const auto& c = log["commits"][i];
    CHECK(c["id"] == f[0]);
    CHECK(c["short"] == f[1]);
    CHECK(c["author"] == f[2]);
    CHECK(c["email"] == f[3]);
    CHECK(c["date"] == f[4]);
    CHECK(c["subject"] == f[5]);
    CHECK(trim(c.value("body", "")) == trim(f.size() > 6 ? f[6] : ""));
  }
  bool found_body = false;
  for (const auto& c : log["commits"])
    if (c["subject"] == "Feature work")
      found_body = trim(c["body"]) == "The body explains why.\nOver two lines.";
  CHECK(found_body);

  auto two = repo.tool("git_log", {{"max", 2}});
  CHECK(ids(two) == std::vector<std::string>(expected.begin(), expected.begin() + 2));
  CHECK(two.contains("note"));
  auto from_feature = repo.tool("git_log", {{"rev", "feature"}});
  CHECK(ids(from_feature) == split(trim(repo.git("log --format=%H feature")), '\n'));
}

TEST_CASE("git_log with a path lists the commits git log -- path lists") {
  GitRepo repo;
  branchy_history(repo);
  for (std::string path : {"app/core.cpp", "docs", "docs/guide.md", "docs/other.md", "app"}) {
    INFO(path);
    auto log = repo.tool("git_log", {{"path", path}});
    REQUIRE(log["ok"] == true);
    CHECK(ids(log) == split(trim(repo.git("log --format=%H -- " + path)), '\n'));
  }
  auto nothing = repo.tool("git_log", {{"path", "no/such/file"}});
  CHECK(nothing["commits"].empty());
  auto outside = repo.tool("git_log", {{"path", "../elsewhere"}});
  CHECK(outside["ok"] == false);

  GitRepo empty;
  auto none = empty.tool("git_log", json::object());
  CHECK(none["ok"] == true);
  CHECK(none["commits"].empty());
  CHECK_THAT(none["note"].get<std::string>(), Catch::Contains("no commits"));
}

TEST_CASE("git_show shows commits, files at a revision, tags and folders like git show") {
  GitRepo repo;
  branchy_history(repo);
  repo.write("data.bin", std::string("\0\1\2\3", 4));
  repo.write("app/core.cpp", "core 3\nfeature\n");
  repo.commit_all("Binary and core");
  repo.git("tag -a v1 -m 'Release one' HEAD~1");

  auto head = repo.tool("git_show", json::object());
  REQUIRE(head["ok"] == true);
  CHECK(head["type"] == "commit");
  CHECK(head["id"] == trim(repo.git("rev-parse HEAD")));
  CHECK(head["patch"] == repo.git("show --format= HEAD"));
  CHECK_THAT(head["patch"].get<std::string>(), Catch::Contains("Binary files /dev/null and b/data.bin differ"));
  CHECK(head["parents"].size() == 1);

  auto root = repo.tool("git_show", {{"rev", "HEAD~4"}});
  CHECK(root["subject"] == "Start the project");
  CHECK(root["parents"].empty());
  CHECK(root["patch"] == repo.git("show --format= HEAD~4"));

  auto merge = repo.tool("git_show", {{"rev", "HEAD~2"}});
  CHECK(merge["parents"].size() == 2);
  CHECK(merge.contains("merge_note"));
  CHECK(merge["patch"] == repo.git("diff HEAD~2^1 HEAD~2"));

  auto blob = repo.tool("git_show", {{"rev", "HEAD~1:app/core.cpp"}});
  CHECK(blob["type"] == "blob");
  CHECK(blob["content"] == repo.git("show HEAD~1:app/core.cpp"));
  auto binary = repo.tool("git_show", {{"rev", "HEAD:data.bin"}});
  CHECK(binary["binary"] == true);
  CHECK_FALSE(binary.contains("content"));

  auto tag = repo.tool("git_show", {{"rev", "v1"}});
  CHECK(tag["type"] == "tag");
  CHECK(tag["tag"] == "v1");
  CHECK(trim(tag["message"]) == "Release one");
  CHECK(tag["target"]["id"] == trim(repo.git("rev-parse v1^{commit}")));

  auto tree = repo.tool("git_show", {{"rev", "HEAD:app"}});
  CHECK(tree["type"] == "tree");
  CHECK(tree["entries"][0]["name"] == "core.cpp");

  auto missing = repo.tool("git_show", {{"rev", "HEAD:nope.txt"}});
  CHECK(missing["ok"] == false);
  CHECK_THAT(missing["error"].get<std::string>(), Catch::Contains("unknown revision"));
  auto escape = repo.tool("git_show", {{"rev", "HEAD:../../etc/passwd"}});
  CHECK(escape["ok"] == false);
  CHECK_THAT(escape["error"].get<std::string>(), Catch::Contains("workspace"));
}

TEST_CASE("git_blame attributes lines like git blame --porcelain, uncommitted lines too") {
  GitRepo repo;
  repo.write("story.txt", "one\ntwo\nthree\n");
  repo.commit_all("First three lines");
  repo.write("story.txt", "one\nTWO\nthree\nfour\n");
  repo.commit_all("Change two, add four");
  repo.write("story.txt", "zero\none\nTWO\nthree\nfour\nfive\n");
  repo.commit_all("Add zero and five");
  repo.write("story.txt", "zero\none\nTWO\nthree, edited\nfour\nfive\nsix, unsaved\n");

  auto blame = repo.tool("git_blame", {{"path", "story.txt"}});
  REQUIRE(blame["ok"] == true);
  // In --porcelain each line's header is "<sha> <orig line> <final line> [<count>]".
  std::vector<std::string> expected;
  for (const auto& line : split(repo.git("blame --porcelain story.txt"), '\n')) {
    auto words = split(line, ' ');
    if (words.size() >= 3 && words[0].size() == 40 &&
        words[0].find_first_not_of("0123456789abcdef") == std::string::npos)
      expected.push_back(words[0]);
  }
  const auto& lines = blame["lines"];
  REQUIRE(lines.size() == expected.size());
  REQUIRE(lines.size() == 7);
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO("line " << i + 1);
    CHECK(lines[i]["line"] == i + 1);
    if (expected[i] == std::string(40, '0')) {
      CHECK(lines[i]["commit"] == "uncommitted");
    } else {
      auto short_id = lines[i]["commit"].get<std::string>();
      CHECK(expected[i].starts_with(short_id));
      CHECK(blame["commits"][short_id]["id"] == expected[i]);
    }
  }
  CHECK(lines[3]["text"] == "three, edited");
  CHECK(lines[6]["commit"] == "uncommitted");
  auto second = trim(repo.git("rev-parse --short HEAD~1"));
  CHECK(lines[2]["commit"] == second);
  CHECK(blame["commits"][second]["subject"] == "Change two, add four");
  CHECK(blame["commits"][second]["author"] == "Test Author");

  auto range = repo.tool("git_blame", {{"path", "story.txt"}, {"start_line", 2}, {"end_line", 3}});
  REQUIRE(range["lines"].size() == 2);
  CHECK(range["lines"][0]["text"] == "one");
  CHECK(range["lines"][1]["line"] == 3);
  auto past = repo.tool("git_blame", {{"path", "story.txt"}, {"start_line", 99}});
  CHECK(past["ok"] == false);
  CHECK_THAT(past["error"].get<std::string>(), Catch::Contains("7 lines"));

  repo.write("fresh.txt", "new\n");
  auto fresh = repo.tool("git_blame", {{"path", "fresh.txt"}});
  CHECK(fresh["ok"] == false);
  CHECK_THAT(fresh["error"].get<std::string>(), Catch::Contains("not a file in HEAD"));
  auto outside = repo.tool("git_blame", {{"path", "/etc/passwd"}});
  CHECK(outside["ok"] == false);
  CHECK_THAT(outside["error"].get<std::string>(), Catch::Contains("outside the workspace"));

  std::filesystem::remove(repo.path() / "story.txt");
  auto deleted = repo.tool("git_blame", {{"path", "story.txt"}});
  REQUIRE(deleted["ok"] == true);
  CHECK(deleted["lines"].size() == 6);
  CHECK_THAT(deleted["note"].get<std::string>(), Catch::Contains("deleted in the work tree"));
}
