// git_commit and git_branch, checked with git rev-parse, git show and git status.
#include <catch2/catch.hpp>

#include "tests/support/run.hpp"
#include "tests/tools/git_fixture.hpp"

using dsv4::test::GitRepo;
using dsv4::test::trim;
using nlohmann::json;

TEST_CASE("git_commit with paths commits exactly those paths and leaves other staged work") {
  GitRepo repo;
  repo.write("keep.txt", "1\n");
  repo.write("change.txt", "1\n");
  repo.write("remove.txt", "1\n");
  repo.write("other.txt", "1\n");
  repo.write("dir/nested.txt", "1\n");
  repo.commit_all("base");
  repo.write("change.txt", "2\n");
  std::filesystem::remove(repo.path() / "remove.txt");
  repo.write("add me.txt", "new\n");
  repo.write("dir/nested.txt", "2\n");
  repo.write("dir/new.txt", "new\n");
  repo.write("other.txt", "2\n");
  repo.git("add other.txt");  // staged, but not part of this commit
  repo.write("keep.txt", "2\n");  // changed, not staged, not part of this commit

  auto result = repo.tool("git_commit", {{"message", "Change, add and remove\n\nWith a body."},
                                         {"paths", {"change.txt", "remove.txt", "add me.txt", "dir"}}});
  REQUIRE(result["ok"] == true);
  CHECK(result["commit"] == trim(repo.git("rev-parse HEAD")));
  CHECK(result["short"] == trim(repo.git("rev-parse --short HEAD")));
  CHECK(result["summary"] == "Change, add and remove");
  CHECK(repo.git("log -1 --format=%B") == "Change, add and remove\n\nWith a body.\n\n");
  CHECK(trim(repo.git("log -1 --format=%an/%ae/%cn")) == "Test Author/author@example.com/Test Author");
  CHECK(trim(repo.git("rev-parse HEAD~1")) == trim(repo.git("rev-parse main~1")));
  CHECK(repo.git("show --name-status --format= HEAD") ==
        "A\tadd me.txt\nM\tchange.txt\nM\tdir/nested.txt\nA\tdir/new.txt\nD\tremove.txt\n");
  CHECK(result["files"].size() == 5);
  // What was staged before stays staged; what was not stays unstaged.
  CHECK(repo.git("status --porcelain=v1") == " M keep.txt\nM  other.txt\n");
  CHECK(repo.git_status_code("fsck --no-progress") == 0);
}

TEST_CASE("git_commit without paths commits the index, and refuses when nothing is staged") {
  GitRepo repo;
  auto nothing = repo.tool("git_commit", {{"message", "empty"}});
  CHECK(nothing["ok"] == false);
  CHECK_THAT(nothing["error"].get<std::string>(), Catch::Contains("nothing staged"));
  CHECK_THAT(nothing["error"].get<std::string>(), Catch::Contains("paths"));

  repo.write("first.txt", "hello\n");
  repo.git("add first.txt");
  auto blank = repo.tool("git_commit", {{"message", "  \n\n \t\n"}});
  CHECK(blank["ok"] == false);
  CHECK_THAT(blank["error"].get<std::string>(), Catch::Contains("message is empty"));

  auto first = repo.tool("git_commit", {{"message", "  First commit  \n\n\n"}});
  REQUIRE(first["ok"] == true);
  CHECK(first["commit"] == trim(repo.git("rev-parse HEAD")));
  CHECK(trim(repo.git("rev-list --count HEAD")) == "1");
  CHECK(repo.git("log -1 --format=%B") == "  First commit\n\n");
  CHECK(trim(repo.git("symbolic-ref HEAD")) == "refs/heads/main");
  CHECK(repo.git("status --porcelain") == "");

  auto again = repo.tool("git_commit", {{"message", "again"}});
  CHECK(again["ok"] == false);
  repo.write("first.txt", "hello again\n");
  auto unchanged = repo.tool("git_commit", {{"message", "x"}, {"paths", {"missing.txt"}}});
  CHECK(unchanged["ok"] == false);
  CHECK_THAT(unchanged["error"].get<std::string>(), Catch::Contains("matches no file"));

  // A removal already staged (file gone from index and work tree) is still committable.
  repo.git("rm -q -f first.txt");
  auto removal = repo.tool("git_commit", {{"message", "Remove first"}, {"paths", {"first.txt"}}});
  REQUIRE(removal["ok"] == true);
  CHECK(repo.git("show --name-status --format= HEAD") == "D\tfirst.txt\n");
  CHECK(trim(repo.git("rev-list --count HEAD")) == "2");

  repo.write(".gitignore", "*.log\n");
  repo.write("debug.log", "x\n");
  auto ignored = repo.tool("git_commit", {{"message", "x"}, {"paths", {"debug.log"}}});
  CHECK(ignored["ok"] == false);
  CHECK_THAT(ignored["error"].get<std::string>(), Catch::Contains("ignored"));
  CHECK(trim(repo.git("rev-list --count HEAD")) == "2");
}

TEST_CASE("git_commit needs an identity and says how to set it, committing nothing") {
  GitRepo repo(false);
  repo.git("init -q -b main");
  repo.write("a.txt", "a\n");
  repo.git("add a.txt");
  auto out = dsv4::test::run_dsv4({"tool", "git_commit", "--root", repo.path().string(),
                                   "--args", R"({"message": "no identity"})"});
  CHECK(out.exit_code == 1);
  CHECK_THAT(out.out, Catch::Contains("user.name"));
  CHECK_THAT(out.out, Catch::Contains("git config"));
  CHECK(repo.git_status_code("rev-parse -q --verify HEAD") != 0);
}

TEST_CASE("git_commit concludes a merge once the conflicts are resolved") {
  GitRepo repo;
  repo.write("f.txt", "base\n");
  repo.commit_all("base");
  repo.git("checkout -q -b side");
  repo.write("f.txt", "side\n");
  repo.commit_all("side");
  repo.git("checkout -q main");
  repo.write("f.txt", "main\n");
  repo.commit_all("main");
  CHECK(repo.git_status_code("merge -q side") != 0);

  auto unresolved = repo.tool("git_commit", {{"message", "merge"}});
  CHECK(unresolved["ok"] == false);
  CHECK_THAT(unresolved["error"].get<std::string>(), Catch::Contains("f.txt"));
  repo.write("f.txt", "main and side\n");
  repo.git("add f.txt");
  auto merged = repo.tool("git_commit", {{"message", "Merge side"}});
  REQUIRE(merged["ok"] == true);
  auto parents = trim(repo.git("rev-list --parents -1 HEAD"));
  CHECK(parents == merged["commit"].get<std::string>() + " " + trim(repo.git("rev-parse HEAD^1")) +
                       " " + trim(repo.git("rev-parse side")));
  CHECK_FALSE(std::filesystem::exists(repo.path() / ".git/MERGE_HEAD"));
  CHECK(repo.git("status --porcelain") == "");
}

TEST_CASE("git_branch lists, creates and switches like git branch and git switch") {
  GitRepo repo;
  repo.write("a.txt", "main\n");
  repo.commit_all("one");
  repo.write("a.txt", "main 2\n");
  repo.commit_all("two");

  auto created = repo.tool("git_branch", {{"action", "create"}, {"name", "topic"}, {"start_point", "HEAD~1"}});
  REQUIRE(created["ok"] == true);
  CHECK(trim(repo.git("rev-parse topic")) == trim(repo.git("rev-parse HEAD~1")));
  CHECK(trim(repo.git("symbolic-ref --short HEAD")) == "main");
  auto again = repo.tool("git_branch", {{"action", "create"}, {"name", "topic"}});
  CHECK(again["ok"] == false);
  CHECK_THAT(again["error"].get<std::string>(), Catch::Contains("already exists"));
  auto bad = repo.tool("git_branch", {{"action", "create"}, {"name", "bad..name"}});
  CHECK(bad["ok"] == false);
  CHECK_THAT(bad["error"].get<std::string>(), Catch::Contains("not a valid branch name"));
  CHECK(repo.git_status_code("check-ref-format --branch bad..name") != 0);

  auto list = repo.tool("git_branch", {{"action", "list"}});
  std::string ours;
  for (const auto& b : list["branches"])
    ours += b["name"].get<std::string>() + (b["current"] == true ? " *" : "") + "\n";
  std::string theirs;
  for (const auto& line : {repo.git("branch --format='%(refname:short)%(if)%(HEAD)%(then) *%(end)'")})
    theirs += line;
  CHECK(ours == theirs);

  // A change that does not collide with the other branch comes along.
  repo.write("notes.txt", "untracked notes\n");
  auto switched = repo.tool("git_branch", {{"action", "switch"}, {"name", "topic"}});
  REQUIRE(switched["ok"] == true);
  CHECK(trim(repo.git("symbolic-ref --short HEAD")) == "topic");
  CHECK(repo.read("a.txt") == "main\n");
  CHECK(repo.read("notes.txt") == "untracked notes\n");
  CHECK(repo.git("status --porcelain") == "?? notes.txt\n");

  // A change that would be overwritten blocks the switch and nothing moves.
  repo.write("a.txt", "precious local edit\n");
  auto blocked = repo.tool("git_branch", {{"action", "switch"}, {"name", "main"}});
  CHECK(blocked["ok"] == false);
  CHECK_THAT(blocked["error"].get<std::string>(), Catch::Contains("a.txt"));
  CHECK_THAT(blocked["error"].get<std::string>(), Catch::Contains("nothing was changed"));
  CHECK(repo.read("a.txt") == "precious local edit\n");
  CHECK(trim(repo.git("symbolic-ref --short HEAD")) == "topic");

  // So does an untracked file the other branch would write over.
  repo.git("checkout -q -- a.txt");
  repo.git("checkout -q main");
  repo.write("only-on-main.txt", "tracked on main\n");
  repo.git("add only-on-main.txt");
  repo.git("commit -q -m 'add only-on-main'");
  repo.git("checkout -q topic");
  repo.write("only-on-main.txt", "my untracked copy\n");
  auto untracked = repo.tool("git_branch", {{"action", "switch"}, {"name", "main"}});
  CHECK(untracked["ok"] == false);
  CHECK(repo.read("only-on-main.txt") == "my untracked copy\n");
  std::filesystem::remove(repo.path() / "only-on-main.txt");

  auto fresh = repo.tool("git_branch", {{"action", "switch"}, {"name", "fresh"}, {"start_point", "main"}});
  REQUIRE(fresh["ok"] == true);
  CHECK(trim(repo.git("symbolic-ref --short HEAD")) == "fresh");
  CHECK(trim(repo.git("rev-parse HEAD")) == trim(repo.git("rev-parse main")));
  CHECK(repo.read("only-on-main.txt") == "tracked on main\n");
  CHECK(repo.git("status --porcelain") == "?? notes.txt\n");

  // A switch with start_point that cannot happen leaves no new branch behind.
  repo.write("a.txt", "local edit\n");
  auto refused = repo.tool("git_branch", {{"action", "switch"}, {"name", "doomed"}, {"start_point", "topic"}});
  CHECK(refused["ok"] == false);
  CHECK(repo.git_status_code("rev-parse -q --verify refs/heads/doomed") != 0);
  CHECK(repo.read("a.txt") == "local edit\n");
  repo.git("checkout -q -- a.txt");

  // A branch checked out in another worktree is not taken over.
  repo.git("worktree add -q ../" + repo.path().filename().string() + "-wt topic");
  auto taken = repo.tool("git_branch", {{"action", "switch"}, {"name", "topic"}});
  CHECK(taken["ok"] == false);
  CHECK_THAT(taken["error"].get<std::string>(), Catch::Contains("another worktree"));
  repo.git("worktree remove --force ../" + repo.path().filename().string() + "-wt");

  auto unknown = repo.tool("git_branch", {{"action", "switch"}, {"name", "nope"}});
  CHECK(unknown["ok"] == false);
  CHECK_THAT(unknown["error"].get<std::string>(), Catch::Contains("no local branch named 'nope'"));
  auto nameless = repo.tool("git_branch", {{"action", "create"}});
  CHECK(nameless["ok"] == false);
}

TEST_CASE("git_commit keeps a change made in the index's last second visible to git") {
  // git compares whole seconds: an entry, its changed file and the index it was read from
  // all dated the same second is "racily clean" and must stay detectable after the write.
  GitRepo repo;
  repo.git("config core.trustctime false");  // the test can set mtimes, not ctimes
  repo.write("edited.txt", "1\n");
  repo.write("committed.txt", "1\n");
  repo.sh_touch("edited.txt");
  repo.commit_all("base");
  repo.write("edited.txt", "2\n");  // same size, same second as its index entry
  repo.sh_touch("edited.txt");
  repo.sh_touch(".git/index", ".5");  // later than the entry only in nanoseconds
  repo.write("committed.txt", "2\n");
  auto result = repo.tool("git_commit", {{"message", "only one"}, {"paths", {"committed.txt"}}});
  REQUIRE(result["ok"] == true);
  CHECK(repo.git("status --porcelain") == " M edited.txt\n");
}
