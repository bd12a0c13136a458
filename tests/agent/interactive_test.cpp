// End to end: the interactive `dsv4 [PROMPT]` driven through a pipe — prompts, approvals
// and the streamed answer — against the scripted DeepSeek-like server in a real git repository.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/terminal.hpp"
#include "tools/utf8_text.hpp"

#include "agent/session.hpp"
#include "tests/agent/fake_deepseek.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using dsv4::test::FakeDeepSeek;
using dsv4::test::TurnSpec;
using Json = nlohmann::json;

namespace {

TurnSpec call(std::string id, std::string name, std::string args) {
  TurnSpec t;
  t.reasoning = "next: " + name;
  t.calls = {{std::move(id), std::move(name), std::move(args)}};
  return t;
}

TurnSpec say(std::string content) {
  TurnSpec t;
  t.reasoning = "answering";
  t.content = std::move(content);
  return t;
}

}  // namespace

TEST_CASE("interactive: prompts in turn, edits and commands only when approved", "[agent][e2e]") {
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  dsv4::test::TempDir repo, state;
  repo.write("notes.txt", "one\n");
  dsv4::test::sh("git init -q . && git config user.email t@t && git config user.name t && "
                 "git add -A && git commit -qm start",
                 repo.path());
  FakeDeepSeek server(
      {dsv4::test::sse_turn(call("c1", "write_file", R"({"path":"notes.txt","content":"two\n"})")),
       dsv4::test::sse_turn(say("I wrote two into notes.txt.")),
       dsv4::test::sse_turn(call("c2", "shell", R"({"command":"echo hi > made.txt"})")),
       dsv4::test::sse_turn(say("The command was declined, so nothing was run.")),
       dsv4::test::sse_turn(call("c3", "read_file", R"({"path":"notes.txt"})")),
       dsv4::test::sse_turn(say("notes.txt says two."))});
  // First prompt from the command line; then: approve the write, a second prompt, decline
  // the command, a third prompt (a read needs no approval), end of input.
  const std::string input = "y\nnow run a command\nn\n\nwhat does notes.txt say?\n";
  auto r = dsv4::test::run({DSV4_BINARY, "write two into notes.txt", "--base-url",
                            server.base_url(), "--root", repo.path().string(), "--session",
                            (state / "s.jsonl").string()},
                           repo.path(), input);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  // The answers streamed to stdout, in order, nothing else there.
  CHECK(r.out ==
        "I wrote two into notes.txt.\nThe command was declined, so nothing was run.\nnotes.txt says two.\n");
  CHECK(repo.read("notes.txt") == "two\n");
  CHECK_FALSE(std::filesystem::exists(repo / "made.txt"));
  CHECK_THAT(r.err, Catch::Contains("run write_file") && Catch::Contains("run shell") &&
                        Catch::Contains("the user declined this call") &&
                        Catch::Contains("thinking: next: write_file"));
  CHECK_THAT(r.err, !Catch::Contains("run read_file"));  // read-only: not asked

  auto reqs = server.requests();
  REQUIRE(reqs.size() == 6);
  // Each new prompt is a user message appended to the same conversation.
  const Json& last = reqs[5].json["messages"];
  int users = 0;
  for (const Json& m : last) users += m["role"] == "user";
  CHECK(users == 3);
  CHECK(last[last.size() - 3]["content"] == "what does notes.txt say?");
  // The session holds the whole conversation, resumable.
  auto loaded = dsv4::agent::load_session(state / "s.jsonl");
  CHECK(loaded.messages.size() == last.size() + 1);  // + the final answer
}

TEST_CASE("interactive without any model configured says how to configure one", "[agent][e2e]") {
  ::unsetenv("DEEPSEEK_API_KEY");
  dsv4::test::TempDir repo;
  auto r = dsv4::test::run({DSV4_BINARY}, repo.path(), "hello\n");
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("DEEPSEEK_API_KEY") && Catch::Contains("--model DIR") &&
                        Catch::Contains("--base-url"));
  auto typo = dsv4::test::run_dsv4({"frobnicate"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::Contains("quote it"));
}

TEST_CASE("the terminal shortens long tool arguments at a character boundary", "[agent][terminal]") {
  std::istringstream in;
  std::ostringstream out, err;
  dsv4::agent::Terminal terminal(in, out, err, false);
  std::string arguments = R"({"content": ")";
  for (int i = 0; i < 200; ++i) arguments += "é";  // two bytes each: a byte cut would split one
  arguments += R"("})";
  terminal.show({{"type", "message"},
                 {"message",
                  {{"role", "assistant"},
                   {"content", ""},
                   {"tool_calls",
                    {{{"id", "c1"},
                      {"type", "function"},
                      {"function", {{"name", "write_file"}, {"arguments", arguments}}}}}}}}});
  CHECK_THAT(err.str(), Catch::StartsWith("● write_file {\"content\": \"éé") && Catch::EndsWith("…\n"));
  CHECK(err.str().size() < arguments.size());
  CHECK(dsv4::tools::is_valid_utf8(err.str()));
}
