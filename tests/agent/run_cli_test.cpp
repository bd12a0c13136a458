// End to end: `dsv4 run` against the scripted DeepSeek-like server in a real git repository.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/session.hpp"
#include "tests/agent/fake_anthropic.hpp"
#include "tests/agent/fake_deepseek.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using dsv4::test::FakeDeepSeek;
using dsv4::test::TurnSpec;
using Json = nlohmann::json;

namespace {

const char* kCalc = "#!/bin/sh\n# adds two numbers\necho $(($1 - $2))\n";
const char* kTest = "[ \"$(sh calc.sh 2 3)\" = 5 ] && echo PASS || { echo FAIL; exit 1; }\n";

void make_repo(const dsv4::test::TempDir& dir) {
  dir.write("calc.sh", kCalc);
  dir.write("test.sh", kTest);
  dsv4::test::sh(
      "git init -q . && git config user.email t@t && git config user.name t && "
      "git add -A && git commit -qm start",
      dir.path());
}

// The four turns of a small fix: read, edit, test, answer. Reasoning has newlines and
// non-ASCII text so that byte-exact replay is checked.
std::vector<TurnSpec> fix_turns() {
  TurnSpec read, edit, test, done;
  read.reasoning = "The user wants add fixed.\nLet me read calc.sh — first.";
  read.calls = {{"call_read", "read_file", R"({"path": "calc.sh"})"}};
  edit.reasoning = "It subtracts: \"$1 - $2\". Fix → plus.\n\tDone thinking?";
  edit.calls = {{"call_edit", "edit_file",
                 R"({"path": "calc.sh", "old_string": "$1 - $2", "new_string": "$1 + $2"})"}};
  test.reasoning = "Now run the test script.";
  test.calls = {{"call_test", "shell", R"({"command": "sh test.sh"})"}};
  done.reasoning = "PASS printed; finished.";
  done.content = "Fixed calc.sh: it now adds. test.sh passes.";
  return {read, edit, test, done};
}

std::vector<std::string> run_args(const FakeDeepSeek& server, const dsv4::test::TempDir& repo,
                                  const std::filesystem::path& session) {
  return {"run",       "--json",    "--base-url", server.base_url(), "--root",          repo.path(),
          "--approve", "full-auto", "--session",  session,           "--retry-base-ms", "1"};
}

}  // namespace

TEST_CASE("dsv4 run fixes a bug through the scripted model and reports the patch", "[agent][e2e]") {
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  const bool stream = GENERATE(true, false);
  INFO("streaming: " << stream);
  std::vector<dsv4::test::ScriptedReply> script;
  for (const TurnSpec& t : fix_turns())
    script.push_back(stream ? dsv4::test::sse_turn(t) : dsv4::test::json_turn(t));
  FakeDeepSeek server(script);
  auto args = run_args(server, repo, state / "s.jsonl");
  args.insert(args.begin() + 1, "Make calc.sh add instead of subtract");
  if (!stream) args.push_back("--no-stream");
  auto r = dsv4::test::run_dsv4(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json out = Json::parse(r.out);
  CHECK(out["status"] == "done");
  CHECK(out["answer"] == "Fixed calc.sh: it now adds. test.sh passes.");
  CHECK(out["steps"] == 4);
  CHECK(out["tool_calls"] == 3);
  CHECK(out["usage"] ==
        Json{{"input", 400}, {"cache_hit", 240}, {"cache_miss", 160}, {"output", 80}});
  CHECK(out["cost_usd"].get<double>() == Approx((0.0028 * 240 + 0.14 * 160 + 0.28 * 80) / 1e6));
  CHECK(out["cache_hit_ratio"].get<double>() == Approx(0.6));
  CHECK(out["session"] == (state / "s.jsonl").string());

  // The file changed as the edit said, and the patch is what git itself reports.
  CHECK(repo.read("calc.sh") == "#!/bin/sh\n# adds two numbers\necho $(($1 + $2))\n");
  std::string git_diff = dsv4::test::sh("git diff --no-color", repo.path());
  CHECK(out["patch"] == git_diff);
  CHECK_THAT(git_diff,
             Catch::Contains("-echo $(($1 - $2))") && Catch::Contains("+echo $(($1 + $2))"));

  auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  for (const auto& rq : requests) {
    CHECK(rq.status == 200);
    CHECK(rq.json.contains("max_tokens"));
    CHECK(rq.json["stream"] == stream);
    CHECK(rq.json["thinking"]["type"] == "enabled");
  }
  // The test's result reached the model, and every earlier turn's reasoning went back.
  const Json& last = requests[3].json["messages"];
  CHECK_THAT(last.back()["content"].get<std::string>(), Catch::Contains("PASS"));
  auto turns = fix_turns();
  int assistant = 0;
  for (const Json& m : last)
    if (m["role"] == "assistant") CHECK(m["reasoning_content"] == turns[assistant++].reasoning);
  CHECK(assistant == 3);
  // The prompt prefix (system prompt and tools) is byte-identical across requests.
  CHECK(requests[0].json["messages"][0] == requests[3].json["messages"][0]);
  CHECK(requests[0].json["tools"].dump() == requests[3].json["tools"].dump());
}

TEST_CASE("a run stopped by its step budget resumes with reasoning replayed byte for byte",
          "[agent][e2e][session]") {
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  auto turns = fix_turns();
  const auto session = state / "s.jsonl";
  {
    FakeDeepSeek server({dsv4::test::sse_turn(turns[0]), dsv4::test::sse_turn(turns[1])});
    auto args = run_args(server, repo, session);
    args.insert(args.begin() + 1, "Make calc.sh add");
    args.insert(args.end(), {"--max-steps", "2"});
    auto r = dsv4::test::run_dsv4(args);
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(Json::parse(r.out)["status"] == "budget_exhausted");
  }
  auto loaded = dsv4::agent::load_session(session);
  REQUIRE(loaded.messages.size() == 6);  // system, user, (assistant, tool) x 2
  CHECK(loaded.messages[2].reasoning_content == turns[0].reasoning);
  CHECK(loaded.messages[4].reasoning_content == turns[1].reasoning);

  FakeDeepSeek server({dsv4::test::sse_turn(turns[2]), dsv4::test::sse_turn(turns[3])});
  auto args = run_args(server, repo, session);
  args.insert(args.end(), {"--resume", session.string()});
  auto r = dsv4::test::run_dsv4(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Json::parse(r.out)["answer"] == turns[3].content);
  const Json first = server.requests().at(0).json["messages"];
  REQUIRE(first.size() == 6);
  // The exact bytes the server streamed in the first run go back in the resumed one.
  CHECK(first[2]["reasoning_content"].get<std::string>() == turns[0].reasoning);
  CHECK(first[4]["reasoning_content"].get<std::string>() == turns[1].reasoning);
  CHECK(first[4]["tool_calls"][0]["function"]["arguments"] == turns[1].calls[0].arguments);
}

TEST_CASE("dsv4 run --provider anthropic reads a file through the Anthropic API and answers",
          "[agent][e2e][anthropic]") {
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  dsv4::test::AnthropicTurn read, done;
  read.thinking = "Read calc.sh first — it may subtract.\n";
  read.calls = {{"toolu_read", "read_file", R"({"path": "calc.sh"})"}};
  done.thinking = "It subtracts; say so.";
  done.text = "calc.sh subtracts its arguments.";
  dsv4::test::FakeAnthropic server(
      {dsv4::test::anthropic_sse(read), dsv4::test::anthropic_sse(done)}, "sk-test");
  const auto session = state / "s.jsonl";
  auto r = dsv4::test::run_dsv4({"run", "What does calc.sh do?", "--json", "--provider",
                                 "anthropic", "--base-url", server.base_url(), "--root",
                                 repo.path(), "--session", session, "--retry-base-ms", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Json out = Json::parse(r.out);
  CHECK(out["status"] == "done");
  CHECK(out["answer"] == done.text);
  CHECK(out["steps"] == 2);
  CHECK(out["tool_calls"] == 1);
  CHECK(out["usage"] ==
        Json{{"input", 200}, {"cache_hit", 120}, {"cache_miss", 80}, {"output", 40}});

  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  for (const auto& rq : requests) CHECK(rq.status == 200);  // the server's rules all held
  const Json& body = requests[1].json;
  CHECK(body["system"].get<std::string>().size() > 100);  // the system prompt, top level
  const Json& messages = body["messages"];
  REQUIRE(messages.size() == 3);
  CHECK(messages[1]["content"][0]["signature"] == dsv4::test::signature_for(read.thinking));
  CHECK(messages[2]["content"][0]["tool_use_id"] == "toolu_read");
  CHECK_THAT(messages[2]["content"][0]["content"].get<std::string>(),
             Catch::Contains("adds two numbers"));
  // The session keeps the signature, so that --resume can send it back.
  auto loaded = dsv4::agent::load_session(session);
  REQUIRE(loaded.messages.size() == 5);
  CHECK(loaded.messages[2].reasoning_signature == dsv4::test::signature_for(read.thinking));
}

TEST_CASE("dsv4 run reports model errors with exit 1 and bad flags with exit 2", "[agent][e2e]") {
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  SECTION("insufficient balance") {
    FakeDeepSeek server({dsv4::test::error_reply(402, "Insufficient Balance", "payment_required")});
    auto args = run_args(server, repo, state / "s.jsonl");
    args.insert(args.begin() + 1, "anything");
    auto r = dsv4::test::run_dsv4(args);
    CHECK(r.exit_code == 1);
    Json out = Json::parse(r.out);
    CHECK(out["status"] == "error");
    CHECK_THAT(out["error"].get<std::string>(), Catch::Contains("insufficient balance"));
    CHECK(out["patch"] == "");
    CHECK(server.requests().size() == 1);
  }
  SECTION("usage errors") {
    CHECK(dsv4::test::run_dsv4({"run"}).exit_code == 2);
    CHECK(
        dsv4::test::run_dsv4({"run", "x", "--thinking", "huge", "--base-url", "http://127.0.0.1:1"})
            .exit_code == 2);
    auto r =
        dsv4::test::run_dsv4({"run", "x", "--approve", "yolo", "--base-url", "http://127.0.0.1:1"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("full-auto"));
    auto provider = dsv4::test::run_dsv4(
        {"run", "x", "--provider", "claude", "--base-url", "http://127.0.0.1:1"});
    CHECK(provider.exit_code == 2);
    CHECK_THAT(provider.err, Catch::Contains("anthropic") && Catch::Contains("'claude'"));
    std::string unset = dsv4::test::sh(
        "env -u DEEPSEEK_API_KEY '" DSV4_BINARY "' run x 2>&1; echo \"exit=$?\"", repo.path());
    CHECK_THAT(unset, Catch::Contains("no model configured") &&
                          Catch::Contains("DEEPSEEK_API_KEY") && Catch::Contains("--base-url") &&
                          Catch::Contains("exit=2"));
    auto missing = dsv4::test::run_dsv4(
        {"run", "--resume", (state / "none.jsonl").string(), "--base-url", "http://127.0.0.1:1"});
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.err, Catch::Contains("none.jsonl"));
    auto local = dsv4::test::run_dsv4({"run", "x", "--model", "/models/v4"});
    CHECK(local.exit_code == 1);
    CHECK_THAT(local.err, Catch::Contains("/models/v4"));
  }
}

TEST_CASE("dsv4 run --events streams JSONL events ending with the result", "[agent][e2e]") {
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  TurnSpec answer;
  answer.reasoning = "short";
  answer.content = "Nothing to change.";
  FakeDeepSeek server({dsv4::test::sse_turn(answer)});
  auto args = run_args(server, repo, state / "s.jsonl");
  args.erase(args.begin() + 1);  // no --json
  args.insert(args.begin() + 1, {"look around", "--events"});
  auto r = dsv4::test::run_dsv4(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> types;
  std::string streamed;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    Json e = Json::parse(line);
    types.push_back(e["type"]);
    if (e["type"] == "content_delta") streamed += e["text"].get<std::string>();
  }
  REQUIRE(types.size() >= 5);
  CHECK(types.front() == "message");  // the system prompt
  CHECK(std::count(types.begin(), types.end(), "usage") == 1);
  CHECK(std::count(types.begin(), types.end(), "reasoning_delta") >= 1);
  CHECK(types.back() == "end");
  CHECK(streamed == "Nothing to change.");
}

TEST_CASE("an interrupt while waiting on the server ends the run with 130", "[agent][e2e]") {
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  auto busy = dsv4::test::error_reply(503, "busy", "server_error");
  busy.headers = {{"Retry-After", "30"}};
  FakeDeepSeek server({busy});
  std::string script =
      "DEEPSEEK_API_KEY=sk-test '" DSV4_BINARY "' run x --json --no-sandbox --base-url " +
      server.base_url() + " --session '" + (state / "s.jsonl").string() +
      "' >out.json 2>err.txt & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo $?";
  auto started = std::chrono::steady_clock::now();
  std::string code = dsv4::test::sh(script, repo.path());
  CHECK(code == "130\n");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK(Json::parse(repo.read("out.json"))["status"] == "interrupted");
}

TEST_CASE("an interrupt stops a running shell command and ends the run with 130", "[agent][e2e]") {
  dsv4::test::TempDir repo, state;
  make_repo(repo);
  TurnSpec slow;
  slow.reasoning = "wait";
  slow.calls = {{"call_sleep", "shell", R"({"command": "sleep 30"})"}};
  FakeDeepSeek server({dsv4::test::sse_turn(slow)});
  std::string script =
      "DEEPSEEK_API_KEY=sk-test '" DSV4_BINARY "' run x --json --approve full-auto --base-url " +
      server.base_url() + " --session '" + (state / "s.jsonl").string() +
      "' >out.json 2>err.txt & pid=$!; sleep 1.5; kill -INT $pid; wait $pid; echo $?";
  auto started = std::chrono::steady_clock::now();
  std::string code = dsv4::test::sh(script, repo.path());
  INFO(repo.read("err.txt"));
  CHECK(code == "130\n");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(15));
  Json out = Json::parse(repo.read("out.json"));
  CHECK(out["status"] == "interrupted");
  CHECK(out["tool_calls"] == 1);
  CHECK(server.requests().size() == 1);
}
