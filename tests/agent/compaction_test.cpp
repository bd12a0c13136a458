// Context compaction, against the scripted DeepSeek server: the model summarises the older
// turns, and the system prompt and the recent turns reach the server byte-identical.
#include "agent/compaction.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/loop.hpp"
#include "agent/openai_client.hpp"
#include "agent/session.hpp"
#include "agent/token_count.hpp"
#include "engine/tokenizer.hpp"
#include "sandbox/workspace.hpp"
#include "tests/agent/fake_deepseek.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dsv4::agent;
using dsv4::test::FakeDeepSeek;
using dsv4::test::TurnSpec;
using Json = nlohmann::json;

namespace {

const std::filesystem::path kTokenizerDir = DSV4_SHARED_DIR "/golden/tokenizer/deepseek_v3";

Message assistant_calls(std::string id, std::string args) {
  Message m;
  m.role = Role::assistant;
  m.reasoning_content = "thinking about " + id;
  m.tool_calls = {{id, "read_file", std::move(args)}};
  return m;
}

// system, task, then `turns` rounds of (assistant call, tool result).
std::vector<Message> history_of(int turns, size_t result_bytes) {
  std::vector<Message> h = {system_message("sys"), user_message("fix the bug")};
  for (int i = 0; i < turns; ++i) {
    std::string id = "call_" + std::to_string(i);
    h.push_back(assistant_calls(id, R"({"path":"f)" + std::to_string(i) + R"(.txt"})"));
    h.push_back(tool_message(id, std::string(result_bytes, 'x')));
  }
  return h;
}

TurnSpec call_turn(std::string id, std::string path, long prompt_tokens) {
  TurnSpec t;
  t.reasoning = "I need " + path;
  t.calls = {{std::move(id), "read_file", R"({"path":")" + path + R"("})"}};
  t.prompt_tokens = prompt_tokens;
  t.cache_hit = prompt_tokens / 2;
  t.completion_tokens = 30;
  return t;
}

TurnSpec text_turn(std::string content, long prompt_tokens) {
  TurnSpec t;
  t.reasoning = "done thinking";
  t.content = std::move(content);
  t.prompt_tokens = prompt_tokens;
  t.cache_hit = 0;
  t.completion_tokens = 50;
  return t;
}

struct Run {
  dsv4::test::TempDir dir;
  std::vector<Message> history;
  LoopResult result;
  std::vector<Json> events;

  Run(FakeDeepSeek& server, long context_tokens, const TokenCounter& counter,
      const std::filesystem::path& session_file) {
    std::string a;
    for (int i = 0; i < 200; ++i)
      a += "alpha " + std::to_string(i * 7919 % 1000) + ": the quick brown fox jumps\n";
    dir.write("a.txt", a);  // read back as ~2,500 tokens
    dir.write("b.txt", "beta\n");
    OpenAiConfig config;
    config.base_url = server.base_url();
    config.api_key = "sk-test";
    config.max_attempts = 1;
    OpenAiClient client(config);
    LoopOptions options;
    options.context_tokens = context_tokens;
    options.counter = &counter;
    dsv4::sandbox::Workspace workspace(dir.path());
    SessionWriter session(session_file);
    AgentLoop loop(client, workspace, options, &session,
                   [this](const Json& e) { events.push_back(e); });
    history = {system_message(system_prompt()), user_message("explain a.txt and b.txt")};
    for (const Message& m : history) session.append_message(m);
    result = loop.run(history);
  }
};

// What the server counts before any message: the tool schemas and the system prompt.
long base_tokens(const TokenCounter& counter) {
  return counter.count(user_message(tools_json())) + counter.count(system_message(system_prompt()));
}

}  // namespace

TEST_CASE("token counts: exact with the tokenizer, never above the byte bound", "[agent][compaction]") {
  const TokenCounter counter(kTokenizerDir);
  REQUIRE(counter.exact());
  CHECK_THAT(counter.source(), Catch::Contains("deepseek_v3"));
  const auto tokenizer = dsv4::engine::Tokenizer::load(kTokenizerDir);
  Message m = assistant_calls("c1", R"({"path": "src/ünïcode.cpp", "offset": 10})");
  m.content = "Let me look at the file — 日本語 and code: int main() { return 0; }";
  const long content_tokens = static_cast<long>(tokenizer.encode_ordinary(m.content).size() +
                                                tokenizer.encode_ordinary(*m.reasoning_content).size() +
                                                tokenizer.encode_ordinary("read_file").size() +
                                                tokenizer.encode_ordinary(m.tool_calls[0].arguments).size());
  const long framing = counter.count(m) - content_tokens;
  CHECK(framing > 0);
  CHECK(framing <= 16);
  for (const Message& sample : {m, user_message(std::string(5000, ' ')), tool_message("x", "\xff\xfe")})
    CHECK(counter.count(sample) <= TokenCounter::upper_bound(sample));

  const TokenCounter missing(std::filesystem::path("/nonexistent"));
  CHECK_FALSE(missing.exact());
  CHECK_THAT(missing.source(), Catch::Contains("/nonexistent") && Catch::Contains("--tokenizer"));
  // The estimate errs high: at least what the tokenizer says for ordinary code.
  const Message code = user_message("for (int i = 0; i < n; ++i) total += values[i] * weights[i];\n");
  CHECK(missing.count(code) >= counter.count(code));
}

TEST_CASE("the recent tail starts at an assistant turn and fits its budget", "[agent][compaction]") {
  const TokenCounter counter(kTokenizerDir);
  std::vector<Message> h = history_of(6, 400);
  const long turn = counter.count(h[2]) + counter.count(h[3]);
  size_t start = recent_turns_start(h, counter, 2 * turn + turn / 2);
  CHECK(start == h.size() - 4);  // two whole turns fit, the third does not
  CHECK(h[start].role == Role::assistant);
  // A budget smaller than one turn still keeps the last turn whole.
  CHECK(recent_turns_start(h, counter, 1) == h.size() - 2);
  // Only one turn after the task: nothing to summarise but the task itself — that is allowed;
  // with no turn at all there is nothing.
  CHECK(recent_turns_start(history_of(1, 400), counter, 1) == 2);
  CHECK(recent_turns_start({system_message("s"), user_message("u")}, counter, 1) == 0);

  const Message summary = summary_message("SUMMARY");
  std::vector<Message> c = compacted(h, start, summary);
  REQUIRE(c.size() == 2 + 4);
  CHECK(message_to_json(c[0]) == message_to_json(h[0]));
  CHECK_THAT(c[1].content, Catch::Contains("SUMMARY") && Catch::Contains("compacted"));
  for (size_t i = 0; i < 4; ++i) CHECK(message_to_json(c[2 + i]) == message_to_json(h[start + i]));

  std::vector<Message> replayed = h;
  apply_compaction_event(replayed, compaction_event(start, summary));
  CHECK(replayed.size() == c.size());
  CHECK_THROWS_WITH(apply_compaction_event(replayed, compaction_event(99, summary)),
                    Catch::Contains("kept_from 99"));
}

TEST_CASE("the loop compacts past the threshold; the server sees an identical system and tail",
          "[agent][compaction]") {
  // The third turn's prompt (base + 1500) plus a.txt's result (~2,500 tokens) passes 80% of
  // the window; before that, every prompt stays under it.
  const TokenCounter counter(kTokenizerDir);
  const long base = base_tokens(counter);
  const long window = (base + 1500 + 30 + 1000) * 10 / 8;
  FakeDeepSeek server({sse_turn(call_turn("c1", "b.txt", base + 500)),
                       sse_turn(call_turn("c2", "b.txt", base + 1000)),
                       sse_turn(call_turn("c3", "a.txt", base + 1500)),
                       sse_turn(text_turn("## Task\nexplain a.txt and b.txt\n## Done so far\nread both", base + 4000)),
                       sse_turn(text_turn("a.txt holds a's; b.txt says beta.", base + 2800))});
  dsv4::test::TempDir state;
  Run run(server, window, counter, state / "session.jsonl");
  INFO(run.result.error);
  REQUIRE(run.result.status == RunStatus::done);
  CHECK(run.result.answer == "a.txt holds a's; b.txt says beta.");
  CHECK(run.result.steps == 4);     // the summary request is no model turn of the task
  CHECK(run.result.requests == 5);  // but it is counted and paid for
  CHECK(run.result.usage.input == 5 * base + 500 + 1000 + 1500 + 4000 + 2800);

  auto reqs = server.requests();
  REQUIRE(reqs.size() == 5);
  const Json& before = reqs[2].json["messages"];  // the last request before compaction
  const Json& ask = reqs[3].json["messages"];
  const Json& after = reqs[4].json["messages"];
  // The summary request is the conversation so far plus the ask: a new user message, so by
  // DeepSeek's rules the earlier turns' reasoning is no longer sent.
  auto without_reasoning = [](Json m) {
    m.erase("reasoning_content");
    return m;
  };
  REQUIRE(ask.size() == before.size() + 3);
  for (size_t i = 0; i < before.size(); ++i) CHECK(ask[i] == without_reasoning(before[i]));
  for (size_t i = 0; i + 1 < ask.size(); ++i) CHECK_FALSE(ask[i].contains("reasoning_content"));
  CHECK(ask.back()["role"] == "user");
  CHECK_THAT(ask.back()["content"].get<std::string>(), Catch::Contains("summary"));
  // After: the same system prompt byte for byte, the summary, then the tail verbatim.
  CHECK(after[0].dump() == before[0].dump());
  CHECK(reqs[4].json["tools"].dump() == reqs[2].json["tools"].dump());
  CHECK(after[1]["role"] == "user");
  CHECK_THAT(after[1]["content"].get<std::string>(), Catch::Contains("read both"));
  REQUIRE(after.size() >= 4);
  // The tail: the last assistant call turn and its result, verbatim; the call turn now follows
  // the last user message (the summary), so its reasoning is sent back again, as DeepSeek
  // demands for tool turns of the current user turn.
  const Json& last_call = ask[ask.size() - 3];
  CHECK(without_reasoning(after[after.size() - 2]).dump() == last_call.dump());
  CHECK(after[after.size() - 2]["reasoning_content"] == "I need a.txt");
  CHECK(after.back().dump() == ask[ask.size() - 2].dump());
  CHECK(after.back()["role"] == "tool");
  CHECK(after.size() < ask.size() - 1);  // older turns are gone

  int compactions = 0;
  for (const Json& e : run.events)
    if (e["type"] == "compaction") {
      ++compactions;
      CHECK(e["tokens_before"].get<long>() > window * 8 / 10);
      CHECK(e["tokens_after"].get<long>() < e["tokens_before"].get<long>());
    }
  CHECK(compactions == 1);

  // A resumed session replays the compaction: the same history the loop ended with.
  LoadedSession loaded = load_session(state / "session.jsonl");
  REQUIRE(loaded.messages.size() == run.history.size());
  for (size_t i = 0; i < loaded.messages.size(); ++i)
    CHECK(message_to_json(loaded.messages[i]) == message_to_json(run.history[i]));
}

TEST_CASE("a context-length 400 from the server compacts once and retries the step",
          "[agent][compaction]") {
  FakeDeepSeek server(
      {sse_turn(call_turn("c1", "b.txt", 500)), sse_turn(call_turn("c2", "a.txt", 900)),
       dsv4::test::error_reply(400,
                               "This model's maximum context length is 1000 tokens. However, you "
                               "requested 1900 tokens (1800 in the messages, 100 in the completion).",
                               "invalid_request_error"),
       sse_turn(text_turn("summary of the reads", 950)), sse_turn(text_turn("done", 600))});
  const TokenCounter counter(kTokenizerDir);
  dsv4::test::TempDir state;
  // The window we were told is far too large: only the server's refusal reveals it.
  Run run(server, 1 << 20, counter, state / "session.jsonl");
  INFO(run.result.error);
  REQUIRE(run.result.status == RunStatus::done);
  CHECK(run.result.answer == "done");
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 5);
  CHECK(reqs[2].status == 400);
  CHECK_THAT(reqs[3].json["messages"].back()["content"].get<std::string>(),
             Catch::Contains("summary"));
  CHECK_THAT(reqs[4].json["messages"][1]["content"].get<std::string>(),
             Catch::Contains("summary of the reads"));
}

TEST_CASE("a failed summary leaves the history alone and says why", "[agent][compaction]") {
  const TokenCounter counter(kTokenizerDir);
  const long base = base_tokens(counter);
  FakeDeepSeek server({sse_turn(call_turn("c1", "b.txt", base + 500)),
                       sse_turn(call_turn("c2", "a.txt", base + 900)),
                       dsv4::test::error_reply(503, "Server busy", "service_unavailable"),
                       sse_turn(text_turn("answer anyway", base + 3500))});
  dsv4::test::TempDir state;
  Run run(server, (base + 2000) * 10 / 8, counter, state / "session.jsonl");
  REQUIRE(run.result.status == RunStatus::done);
  std::vector<std::string> notices;
  for (const Json& e : run.events)
    if (e["type"] == "notice") notices.push_back(e["text"]);
  REQUIRE(notices.size() == 1);
  CHECK_THAT(notices[0], Catch::Contains("compaction skipped") && Catch::Contains("503"));
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[3].json["messages"].size() == reqs[1].json["messages"].size() + 2);
}
