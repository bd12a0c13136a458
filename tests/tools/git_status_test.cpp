#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "tests/tools/git_fixture.hpp"

using dsv4::test::GitRepo;
using dsv4::test::PorcelainEntry;
using nlohmann::json;

namespace {

// The tool's files as porcelain entries; `quoted` maps a git-quoted name back to its bytes
// (the tool shows names that are not UTF-8 the way `git status` without -z does).
std::vector<PorcelainEntry> tool_entries(const json& status,
                                         const std::map<std::string, std::string>& quoted = {}) {
  auto raw = [&](const std::string& p) { return quoted.count(p) ? quoted.at(p) : p; };
  std::vector<PorcelainEntry> out;
  for (const auto& f : status["files"])
    out.push_back({f["status"], raw(f["path"]), raw(f.value("from", ""))});
  return out;
}

std::vector<PorcelainEntry> cli_entries(GitRepo& repo) {
  return dsv4::test::parse_porcelain_z(repo.git("status --porcelain=v1 -z"));
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<PorcelainEntry> {
  static std::string convert(const PorcelainEntry& e) {
    return "[" + e.status + " '" + e.path + "'" + (e.from.empty() ? "" : " from '" + e.from + "'") + "]";
  }
};
}  // namespace Catch

TEST_CASE("git_status matches git status --porcelain for every kind of change") {
  GitRepo repo;
  repo.write("modified.txt", "one\n");
  repo.write("staged.txt", "one\n");
  repo.write("both.txt", "one\n");
  repo.write("deleted.txt", "gone\n");
  repo.write("removed.txt", "gone\n");
  repo.write("old name.txt", "a file that will be renamed, long enough to be detected\n");
  repo.write(".gitignore", "*.log\n");
  repo.commit_all("base");

  repo.write("modified.txt", "two\n");
  repo.write("staged.txt", "two\n");
  repo.git("add staged.txt");
  repo.write("both.txt", "two\n");
  repo.git("add both.txt");
  repo.write("both.txt", "three\n");
  std::filesystem::remove(repo.path() / "deleted.txt");
  repo.git("rm -q removed.txt");
  repo.git("mv 'old name.txt' 'new name.txt'");
  repo.write("added.txt", "new\n");
  repo.git("add added.txt");
  repo.write("untracked file.txt", "?\n");
  repo.write("untracked dir/a.txt", "?\n");
  repo.write("untracked dir/b.txt", "?\n");
  repo.write("debug.log", "ignored\n");
  repo.write("line\nbreak.txt", "?\n");
  repo.write("caf\xe9.txt", "latin-1 name\n");

  auto status = repo.tool("git_status", json::object());
  REQUIRE(status["ok"] == true);
  CHECK(status["branch"] == "main");
  CHECK(status["clean"] == false);
  CHECK(status["head"] == dsv4::test::trim(repo.git("rev-parse --short HEAD")));
  CHECK(status["subject"] == "base");
  CHECK_FALSE(status.contains("upstream"));

  // git without -z quotes the name that is not UTF-8 the same way the tool does.
  CHECK_THAT(repo.git("status --porcelain=v1"), Catch::Contains("?? \"caf\\351.txt\""));
  auto ours = tool_entries(status, {{"\"caf\\351.txt\"", "caf\xe9.txt"}});
  auto theirs = cli_entries(repo);
  CHECK(ours == theirs);
  CHECK(ours.size() == 11);
  for (const auto& e : ours) CHECK(e.path != "debug.log");
}

TEST_CASE("git_status handles an empty repository and a detached HEAD") {
  GitRepo repo;
  auto empty = repo.tool("git_status", json::object());
  REQUIRE(empty["ok"] == true);
  CHECK(empty["branch"] == "main");
  CHECK(empty["head"].is_null());
  CHECK(empty["clean"] == true);

  repo.write("first.txt", "1\n");
  repo.git("add first.txt");
  repo.write("loose.txt", "2\n");
  auto unborn = repo.tool("git_status", json::object());
  CHECK(tool_entries(unborn) == cli_entries(repo));
  CHECK(unborn["files"][0]["status"] == "A ");

  repo.commit_all("one");
  repo.write("first.txt", "1\n2\n");
  auto second = repo.commit_all("two");
  repo.git("checkout -q --detach HEAD~1");
  auto detached = repo.tool("git_status", json::object());
  CHECK(detached["branch"].is_null());
  CHECK(detached["detached"] == true);
  CHECK(detached["head"] == dsv4::test::trim(repo.git("rev-parse --short HEAD")));
  CHECK(detached["clean"] == true);
}

TEST_CASE("git_status reports merge conflicts with git's two-letter codes") {
  GitRepo repo;
  repo.write("both_modified.txt", "base\n");
  repo.write("deleted_by_them.txt", "base\n");
  repo.write("deleted_by_us.txt", "base\n");
  repo.write("clean.txt", "base\n");
  repo.commit_all("base");
  repo.git("checkout -q -b side");
  repo.write("both_modified.txt", "side\n");
  std::filesystem::remove(repo.path() / "deleted_by_them.txt");
  repo.write("deleted_by_us.txt", "side\n");
  repo.write("both_added.txt", "side\n");
  repo.commit_all("side");
  repo.git("checkout -q main");
  repo.write("both_modified.txt", "main\n");
  repo.write("deleted_by_them.txt", "main\n");
  std::filesystem::remove(repo.path() / "deleted_by_us.txt");
  repo.write("both_added.txt", "main\n");
  repo.commit_all("main");
  CHECK(repo.git_status_code("merge -q side") != 0);

  auto status = repo.tool("git_status", json::object());
  REQUIRE(status["ok"] == true);
  CHECK(status["state"] == "merge");
  auto ours = tool_entries(status);
  CHECK(ours == cli_entries(repo));
  std::set<std::string> codes;
  for (const auto& e : ours) codes.insert(e.status);
  CHECK(codes == std::set<std::string>{"UU", "AA", "UD", "DU"});
}

TEST_CASE("git_status shows the upstream and how far ahead and behind it the branch is") {
  GitRepo remote(false);
  remote.git("init -q --bare -b main");
  GitRepo repo;
  repo.write("a.txt", "1\n");
  repo.commit_all("one");
  repo.write("a.txt", "2\n");
  repo.commit_all("two");
  repo.git("remote add origin " + remote.path().string());
  repo.git("push -q -u origin main");
  repo.git("reset -q --hard HEAD~1");
  repo.write("b.txt", "local\n");
  repo.commit_all("local one");
  repo.write("c.txt", "local\n");
  repo.commit_all("local two");

  auto status = repo.tool("git_status", json::object());
  REQUIRE(status["ok"] == true);
  auto v2 = repo.git("status --porcelain=v2 --branch");
  CHECK_THAT(v2, Catch::Contains("# branch.upstream origin/main"));
  CHECK_THAT(v2, Catch::Contains("# branch.ab +2 -1"));
  CHECK(status["upstream"] == "origin/main");
  CHECK(status["ahead"] == 2);
  CHECK(status["behind"] == 1);
}

TEST_CASE("git tools outside a repository say where they looked") {
  dsv4::test::GitRepo not_a_repo(false);
  not_a_repo.write("plain.txt", "x\n");
  auto status = not_a_repo.tool("git_status", json::object());
  CHECK(status["ok"] == false);
  auto error = status["error"].get<std::string>();
  CHECK_THAT(error, Catch::Contains("not a git repository"));
  CHECK_THAT(error, Catch::Contains(not_a_repo.path().string()));

  // A repository below the root is named, so that the user can be told where it is.
  not_a_repo.git("init -q inner");
  auto nested = not_a_repo.tool("git_log", json::object());
  CHECK(nested["ok"] == false);
  CHECK_THAT(nested["error"].get<std::string>(), Catch::Contains("inner/"));
}

TEST_CASE("a workspace inside a repository sees only its own folder, relative to itself") {
  GitRepo repo;
  repo.write("top.txt", "1\n");
  repo.write("sub/inside.txt", "1\n");
  repo.write("sub/deeper/file.txt", "1\n");
  repo.commit_all("base");
  repo.write("top.txt", "2\n");
  repo.write("sub/inside.txt", "2\n");
  repo.write("sub/new.txt", "new\n");

  auto status = repo.tool("git_status", json::object(), "sub");
  REQUIRE(status["ok"] == true);
  auto expected = dsv4::test::parse_porcelain_z(repo.git("status --porcelain=v1 -z -- .", "sub"));
  REQUIRE(expected.size() == 2);
  REQUIRE(status["files"].size() == 2);
  // git prints repository-relative paths; the tool prints workspace-relative ones.
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(status["files"][i]["status"] == expected[i].status);
    CHECK("sub/" + status["files"][i]["path"].get<std::string>() == expected[i].path);
  }
  auto diff = repo.tool("git_diff", json::object(), "sub");
  CHECK(diff["patch"] == repo.git("diff -- .", "sub"));
  CHECK(diff["files"].size() == 1);
  CHECK(diff["files"][0]["path"] == "inside.txt");

  repo.commit_all("everything");
  repo.write("top.txt", "3\n");
  repo.commit_all("only the top");  // not part of the workspace's history
  auto log = repo.tool("git_log", json::object(), "sub");
  REQUIRE(log["commits"].size() == 2);
  CHECK(log["commits"][0]["id"].get<std::string>() + "\n" + log["commits"][1]["id"].get<std::string>() ==
        dsv4::test::trim(repo.git("log --format=%H -- sub")));

  auto outside = repo.tool("git_diff", {{"paths", {"../top.txt"}}}, "sub");
  CHECK(outside["ok"] == false);
  CHECK_THAT(outside["error"].get<std::string>(), Catch::Contains("workspace"));
  auto switched = repo.tool("git_branch", {{"action", "switch"}, {"name", "x"}, {"start_point", "HEAD"}}, "sub");
  CHECK(switched["ok"] == false);
  CHECK_THAT(switched["error"].get<std::string>(), Catch::Contains("outside the workspace"));
}

TEST_CASE("every git tool answers an empty repository with a result or a clear error") {
  GitRepo repo;
  repo.write("staged.txt", "new\n");
  repo.git("add staged.txt");
  auto staged = repo.tool("git_diff", {{"staged", true}});
  REQUIRE(staged["ok"] == true);
  CHECK(staged["patch"] == repo.git("diff --cached"));
  CHECK(staged["files"][0]["status"] == "A");

  auto log = repo.tool("git_log", json::object());
  CHECK(log["ok"] == true);
  CHECK(log["commits"].empty());
  auto show = repo.tool("git_show", json::object());
  CHECK(show["ok"] == false);
  CHECK_THAT(show["error"].get<std::string>(), Catch::Contains("no commits yet"));
  auto blame = repo.tool("git_blame", {{"path", "staged.txt"}});
  CHECK(blame["ok"] == false);
  CHECK_THAT(blame["error"].get<std::string>(), Catch::Contains("no commits yet"));
  auto branches = repo.tool("git_branch", {{"action", "list"}});
  CHECK(branches["ok"] == true);
  CHECK(branches["branches"].empty());
  CHECK(repo.git("branch --list") == "");
  auto create = repo.tool("git_branch", {{"action", "create"}, {"name", "topic"}});
  CHECK(create["ok"] == false);
  CHECK_THAT(create["error"].get<std::string>(), Catch::Contains("no commits yet"));
}
