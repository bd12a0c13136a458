// The local-engine model client on a random-weight model with the real tokenizer: the prompt it
// feeds (against the golden V4 encodings), its tokens (against the engine's own generate and
// `dsv4 generate`), the prefix cache (against fresh clients), DSML text → stream events, and
// `dsv4 run --model DIR` end to end.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/local_client.hpp"
#include "agent/local_turn.hpp"
#include "agent/loop.hpp"
#include "engine/generate.hpp"
#include "engine/model_weights.hpp"
#include "engine/tokenizer.hpp"
#include "tests/engine/jsonl.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dsv4::agent;
using Json = nlohmann::ordered_json;

namespace {

const std::string kTokenizerDir = std::string(DSV4_SHARED_DIR) + "/golden/tokenizer/deepseek_v3";

// case1's shape (window 16, compressed layers of ratio 4 and 128) with the real vocabulary,
// written once per test program by `dsv4 model synth`.
const std::string& model_dir() {
  static dsv4::test::TempDir dir;
  static const std::string path = [] {
    std::ifstream in(std::string(DSV4_SHARED_DIR) + "/golden/v4/case1_mixed_yarn/config.json");
    std::string cfg{std::istreambuf_iterator<char>(in), {}};
    const std::string from = "\"vocab_size\": 512";
    REQUIRE(cfg.find(from) != std::string::npos);
    cfg.replace(cfg.find(from), from.size(), "\"vocab_size\": 129280");
    dir.write("config.json", cfg);
    auto r = dsv4::test::run_dsv4({"model", "synth", "--config", (dir / "config.json").string(), "--out",
                                   (dir / "m").string(), "--dtype", "bf16", "--seed", "3", "--tokenizer", kTokenizerDir});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return (dir / "m").string();
  }();
  return path;
}

const dsv4::engine::Tokenizer& tokenizer() {
  static const dsv4::engine::Tokenizer tok = dsv4::engine::Tokenizer::load(kTokenizerDir);
  return tok;
}

LocalClient make_client() {
  LocalConfig config;
  config.model_dir = model_dir();
  return LocalClient(config);
}

const char* kTools = R"([{"type": "function", "function": {"name": "read_file", "description": "Read a file.",
  "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
  "required": ["path"]}}}])";

ChatRequest tool_request(const std::string& task, int max_tokens) {
  ChatRequest r;
  r.messages = {system_message("You are a careful coding agent."), user_message(task)};
  r.tools_json = kTools;
  r.thinking = Thinking::high;
  r.max_tokens = max_tokens;
  return r;
}

Message assistant_calling(const std::string& path) {
  Message m;
  m.role = Role::assistant;
  m.reasoning_content = "I need to look at " + path + ".";
  m.tool_calls = {{"call_0", "read_file", R"({"path": ")" + path + R"("})"}};
  return m;
}

// A string field, "" when absent or null.
std::string field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// A golden encode case as an agent request, when the agent can express it: no context or
// prefill, tools on a leading system message, a thinking level the agent has.
std::optional<std::pair<ChatRequest, std::string>> agent_case(const Json& c) {
  if (!c.contains("expected")) return std::nullopt;
  const Json& in = c["input"];
  if (!in["context"].is_null() || !in["drop_thinking"].get<bool>() || !in["add_default_bos_token"].get<bool>())
    return std::nullopt;
  ChatRequest r;
  const std::string mode = in["thinking_mode"].get<std::string>();
  const Json& effort = in["reasoning_effort"];
  if (mode == "chat")
    r.thinking = Thinking::off;
  else if (mode == "thinking" && effort == "high")
    r.thinking = Thinking::high;
  else if (mode == "thinking" && effort == "max")
    r.thinking = Thinking::max;
  else
    return std::nullopt;
  const Json& messages = in["messages"];
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    for (const char* unsupported : {"task", "wo_eos", "response_format"})
      if (m.contains(unsupported)) return std::nullopt;
    if (m.contains("content") && !m["content"].is_string() && !m["content"].is_null()) return std::nullopt;
    if (m.contains("tools") && !m["tools"].empty()) {
      if (i != 0 || m["role"] != "system") return std::nullopt;
      r.tools_json = m["tools"].dump();
    }
    Message a;
    const std::string role = m["role"].get<std::string>();
    if (role == "system") a.role = Role::system;
    else if (role == "user") a.role = Role::user;
    else if (role == "assistant") a.role = Role::assistant;
    else if (role == "tool") a.role = Role::tool;
    else return std::nullopt;
    a.content = field(m, "content");
    if (m.contains("reasoning") && m["reasoning"].is_string()) a.reasoning_content = m["reasoning"].get<std::string>();
    a.tool_call_id = field(m, "tool_call_id");
    for (const Json& tc : m.value("tool_calls", Json::array())) {
      const Json& args = tc["function"]["arguments"];
      a.tool_calls.push_back({field(tc, "id"), field(tc["function"], "name"),
                              args.is_string() ? args.get<std::string>() : args.is_null() ? "" : args.dump()});
    }
    r.messages.push_back(std::move(a));
  }
  return std::make_pair(std::move(r), c["expected"].get<std::string>());
}

std::vector<int32_t> encode(const ChatRequest& r) { return tokenizer().encode(render_prompt(r)); }

// Where the answer's opening (<think> or </think>) starts: just after the last <｜Assistant｜>.
long answer_opening(const std::vector<int32_t>& prompt) {
  const auto assistant = *tokenizer().added_token_id("<｜Assistant｜>");
  const auto it = std::find(prompt.rbegin(), prompt.rend(), assistant);
  REQUIRE(it != prompt.rend());
  return prompt.rend() - it;
}

bool proper_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("local client: golden encode cases the agent can express render byte for byte, and are the tokens fed",
          "[agent][local]") {
  int checked = 0;
  std::set<std::string> thinking_levels;
  std::optional<std::pair<ChatRequest, std::string>> agent_loop;
  for (const auto& line : dsv4::test::read_jsonl(dsv4::test::kGoldenEncoding + "encode_cases.jsonl")) {
    const Json c = Json::parse(line);
    auto converted = agent_case(c);
    if (!converted) continue;
    INFO(c["id"].get<std::string>());
    CHECK(render_prompt(converted->first) == converted->second);
    thinking_levels.insert(std::string(thinking_name(converted->first.thinking)));
    ++checked;
    if (c["id"] == "enc_agent_three_rounds_thinking_effort_high") agent_loop = converted;
  }
  CHECK(checked >= 12);
  CHECK(thinking_levels == std::set<std::string>{"off", "high", "max"});
  REQUIRE(agent_loop);

  // The three-round agent conversation (tools, reasoning, calls, results) through the client.
  LocalClient client = make_client();
  agent_loop->first.max_tokens = 3;
  ChatResponse r = client.complete(agent_loop->first, {});
  const auto expected = tokenizer().encode(agent_loop->second);
  CHECK(client.last().prompt == expected);
  CHECK(r.usage.input == static_cast<long>(expected.size()));
  CHECK(r.usage.cache_hit == 0);
  CHECK(r.usage.cache_miss == r.usage.input);
  CHECK(r.usage.output == 3);
  CHECK(client.last().generated.size() == 3);
}

TEST_CASE("local client: greedy tokens equal the engine's generate and dsv4 generate on the same prompt",
          "[agent][local]") {
  ChatRequest req = tool_request("List the files in src.", 12);
  LocalClient client = make_client();
  std::string streamed_reasoning;
  ChatResponse r = client.complete(req, [&](const StreamEvent& e) {
    if (e.kind == StreamEventKind::reasoning_delta) streamed_reasoning += e.text;
  });
  const auto prompt = encode(req);
  REQUIRE(client.last().prompt == prompt);

  auto model = dsv4::engine::load_model(model_dir());
  dsv4::engine::GenerateOptions gen;
  gen.max_tokens = 12;
  gen.stop_ids = {*tokenizer().eos_id()};
  dsv4::engine::DecodeState state = dsv4::engine::empty_state(model->config);
  const auto reference = dsv4::engine::generate(*model, state, prompt, gen);
  CHECK(client.last().generated == reference);
  CHECK(r.usage.output == static_cast<long>(reference.size()));
  CHECK(r.finish_reason == (reference.size() < 12 ? "stop" : "length"));
  REQUIRE(r.message.reasoning_content);
  CHECK(*r.message.reasoning_content == streamed_reasoning);

  // The same conversation through the command line (engine JSON: tools on the system message).
  dsv4::test::TempDir dir;
  Json messages = Json::array();
  messages.push_back({{"role", "system"}, {"content", req.messages[0].content}, {"tools", Json::parse(kTools)}});
  messages.push_back({{"role", "user"}, {"content", req.messages[1].content}});
  dir.write("messages.json", messages.dump());
  auto cli = dsv4::test::run_dsv4({"generate", "--model", model_dir(), "--messages", (dir / "messages.json").string(),
                                   "--thinking", "high", "-n", "12"});
  INFO(cli.err);
  REQUIRE(cli.exit_code == 0);
  CHECK(cli.out == tokenizer().decode(reference) + "\n");
}

TEST_CASE("local client: the prefix cache reuses the conversation and changes no token", "[agent][local]") {
  LocalClient warm = make_client();
  auto fresh_tokens = [](const ChatRequest& r) {
    LocalClient fresh = make_client();
    ChatResponse out = fresh.complete(r, {});
    CHECK(out.usage.cache_hit == 0);
    return fresh.last().generated;
  };

  // One generated token: the live state holds exactly the prompt, which the next request extends.
  ChatRequest first = tool_request("Read src/main.c and summarise it.", 1);
  ChatResponse r1 = warm.complete(first, {});
  const long p1 = r1.usage.input;
  CHECK(r1.usage.cache_hit == 0);

  ChatRequest second = first;
  second.max_tokens = 10;
  second.messages.push_back(assistant_calling("src/main.c"));
  second.messages.push_back(tool_message("call_0", "int main(void) { return 0; }\n"));
  REQUIRE(proper_prefix(warm.last().prompt, encode(second)));  // the history only grew
  ChatResponse r2 = warm.complete(second, {});
  CHECK(r2.usage.cache_hit == p1);
  CHECK(r2.usage.cache_miss == r2.usage.input - p1);
  CHECK(r2.usage.input == static_cast<long>(encode(second).size()));
  const auto g2 = warm.last().generated;
  CHECK(g2 == fresh_tokens(second));

  // The model's own answer appended, then a tool result. The live state (prompt and generated
  // tokens but the last, which was never fed) is reused when the re-rendered answer tokenizes as
  // the model wrote it; otherwise the snapshot before the answer's opening is.
  ChatRequest third = second;
  third.messages.push_back(r2.message);
  third.messages.push_back(tool_message("call_0", "done"));
  const auto p3 = encode(third);
  std::vector<int32_t> live = warm.last().prompt;
  live.insert(live.end(), g2.begin(), g2.end() - 1);
  const long opening = answer_opening(warm.last().prompt);
  ChatResponse r3 = warm.complete(third, {});
  CHECK(r3.usage.cache_hit == (proper_prefix(live, p3) ? static_cast<long>(live.size()) : opening));
  CHECK(r3.usage.cache_hit >= opening);
  CHECK(warm.last().generated == fresh_tokens(third));

  // A different task: only the system prompt and tools are shared, up to the first <｜User｜>.
  ChatRequest other = tool_request("Delete the build folder.", 6);
  const auto p4 = encode(other);
  const auto user = std::find(p4.begin(), p4.end(), *tokenizer().added_token_id("<｜User｜>"));
  REQUIRE(user != p4.end());
  ChatResponse r4 = warm.complete(other, {});
  CHECK(r4.usage.cache_hit == user - p4.begin());
  CHECK(warm.last().generated == fresh_tokens(other));

  // Without tools, a new user turn drops the last answer's reasoning and re-renders its opening
  // <think> as </think>: the snapshot just before the opening is reused.
  ChatRequest plain;
  plain.messages = {system_message("Be brief."), user_message("Say hi.")};
  plain.max_tokens = 4;
  ChatResponse r5 = warm.complete(plain, {});
  const long plain_opening = answer_opening(warm.last().prompt);
  ChatRequest next = plain;
  Message answer;
  answer.role = Role::assistant;
  answer.reasoning_content = "A greeting.";
  answer.content = "Hi.";
  next.messages.push_back(answer);
  next.messages.push_back(user_message("Now say bye."));
  ChatResponse r6 = warm.complete(next, {});
  CHECK(r6.usage.cache_hit == plain_opening);
  CHECK(r6.usage.cache_hit > r5.usage.input - 5);
  CHECK(warm.last().generated == fresh_tokens(next));
}

TEST_CASE("local client: a cancel stops between tokens and leaves a usable cache", "[agent][local]") {
  std::atomic<bool> cancel{false};
  LocalConfig config;
  config.model_dir = model_dir();
  config.cancel = &cancel;
  LocalClient client(config);
  ChatRequest req = tool_request("Explain the build.", 40);
  std::vector<std::string> errors;
  auto stop_at_first_text = [&](const StreamEvent& e) {
    if (e.kind == StreamEventKind::reasoning_delta) cancel = true;
    if (e.kind == StreamEventKind::error) errors.push_back(e.text);
  };
  CHECK_THROWS_WITH(client.complete(req, stop_at_first_text), "interrupted");
  CHECK(errors == std::vector<std::string>{"interrupted"});
  CHECK(client.last().generated.size() < 40);

  // The same request again reuses what the interrupted one computed and matches a fresh client.
  cancel = false;
  req.max_tokens = 6;
  ChatResponse again = client.complete(req, {});
  CHECK(again.usage.cache_hit == answer_opening(client.last().prompt));  // the snapshot: the live state is longer than the prompt
  const auto tokens = client.last().generated;
  LocalClient fresh = make_client();
  fresh.complete(req, {});
  CHECK(fresh.last().generated == tokens);
}

TEST_CASE("local client: DSML token streams become reasoning, content and tool-call events", "[agent][local]") {
  std::vector<StreamEvent> events;
  EventSink sink = [&](const StreamEvent& e) { events.push_back(e); };
  auto feed = [&](LocalTurn& turn, const std::string& text) {
    std::vector<bool> greedy;
    for (int32_t id : tokenizer().encode(text)) {
      greedy.push_back(turn.force_greedy());
      turn.push(id);
    }
    return greedy;
  };
  auto joined = [&](StreamEventKind kind) {
    std::string s;
    for (const auto& e : events)
      if (e.kind == kind) s += e.text;
    return s;
  };

  const std::string reasoning = "The user wants src/a.c; I will read it and list the folder.";
  const std::string text = reasoning + "</think>Reading now.\n\n<｜DSML｜tool_calls>\n"
                           "<｜DSML｜invoke name=\"read_file\">\n"
                           "<｜DSML｜parameter name=\"path\" string=\"true\">src/a.c</｜DSML｜parameter>\n"
                           "<｜DSML｜parameter name=\"limit\" string=\"false\">20</｜DSML｜parameter>\n"
                           "</｜DSML｜invoke>\n"
                           "<｜DSML｜invoke name=\"shell\">\n"
                           "<｜DSML｜parameter name=\"command\" string=\"true\">ls -la \"src\"</｜DSML｜parameter>\n"
                           "</｜DSML｜invoke>\n"
                           "</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
  {
    LocalTurn turn(tokenizer(), /*thinking=*/true, sink);
    const auto greedy = feed(turn, text);
    Message m = turn.finish();
    CHECK(turn.finish_reason() == "tool_calls");
    REQUIRE(m.reasoning_content);
    CHECK(*m.reasoning_content == reasoning);
    CHECK(m.content == "Reading now.");
    REQUIRE(m.tool_calls.size() == 2);
    CHECK(m.tool_calls[0].id == "call_0");
    CHECK(m.tool_calls[0].name == "read_file");
    CHECK(Json::parse(m.tool_calls[0].arguments) == Json{{"path", "src/a.c"}, {"limit", 20}});
    CHECK(m.tool_calls[1].id == "call_1");
    CHECK(m.tool_calls[1].name == "shell");
    CHECK(Json::parse(m.tool_calls[1].arguments) == Json{{"command", "ls -la \"src\""}});
    CHECK(joined(StreamEventKind::reasoning_delta) == reasoning);
    CHECK(joined(StreamEventKind::content_delta) == "Reading now.");
    std::vector<std::string> calls;
    for (const auto& e : events) {
      if (e.kind == StreamEventKind::tool_call_start) calls.push_back("start " + std::to_string(e.index) + " " + e.id + " " + e.name);
      if (e.kind == StreamEventKind::tool_call_delta) calls.push_back("args " + std::to_string(e.index));
      if (e.kind == StreamEventKind::tool_call_end) calls.push_back("end " + std::to_string(e.index));
    }
    CHECK(calls == std::vector<std::string>{"start 0 call_0 read_file", "args 0", "end 0", "start 1 call_1 shell",
                                            "args 1", "end 1"});
    // Greedy inside the markup only: never in the reasoning or content, on some tokens after them.
    const size_t visible = tokenizer().encode(reasoning + "</think>Reading now.").size();
    CHECK(std::none_of(greedy.begin(), greedy.begin() + static_cast<long>(visible) - 1, [](bool g) { return g; }));
    CHECK(std::count(greedy.begin(), greedy.end(), true) > 10);
  }

  // Chat mode, cut off by the token limit inside a call: the half call is not in the message,
  // a notice says why, and no markup reached the content.
  events.clear();
  LocalTurn cut(tokenizer(), /*thinking=*/false, sink);
  feed(cut, "Let me check.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"shell\">\n"
            "<｜DSML｜parameter name=\"command\" string=\"true\">rm -rf bu");
  Message m = cut.finish();
  CHECK(cut.finish_reason() == "length");
  CHECK_FALSE(m.reasoning_content);
  CHECK(m.content == "Let me check.");
  CHECK(m.tool_calls.empty());
  CHECK(joined(StreamEventKind::content_delta) == "Let me check.");
  CHECK_THAT(joined(StreamEventKind::notice), Catch::Contains("shell") && Catch::Contains("not run"));
}

TEST_CASE("dsv4 run --model DIR runs the agent on the local engine", "[agent][local][e2e]") {
  dsv4::test::TempDir repo, state;
  repo.write("README", "hello\n");
  const std::string task = "Say what is in README.";
  auto r = dsv4::test::run_dsv4({"run", task, "--model", model_dir(), "--max-steps", "1", "--max-tokens", "8",
                                 "--json", "--root", repo.path().string(), "--session", (state / "s.jsonl").string()});
  INFO(r.err);
  Json out = Json::parse(r.out);
  // Random weights: a tool call (the step budget then ends the run) is as valid as an answer.
  const std::string status = out["status"].get<std::string>();
  CHECK(r.exit_code == (status == "done" ? 0 : status == "budget" ? 3 : -1));
  CHECK(out["steps"] == 1);
  ChatRequest expected{{system_message(system_prompt()), user_message(task)}, tools_json(), Thinking::high, 8};
  CHECK(out["usage"]["input"] == encode(expected).size());
  CHECK(out["usage"]["cache_hit"] == 0);
  CHECK(out["usage"]["cache_miss"] == out["usage"]["input"]);
  CHECK(out["usage"]["output"].get<int>() >= 1);
  CHECK(out["usage"]["output"].get<int>() <= 8);
  CHECK(out["cost_usd"] == 0.0);
  CHECK(std::filesystem::exists(state / "s.jsonl"));

  auto missing = dsv4::test::run_dsv4({"run", "x", "--model", (state / "nowhere").string(), "--session",
                                       (state / "none.jsonl").string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("cannot load the local model") && Catch::Contains("nowhere"));
  CHECK_FALSE(std::filesystem::exists(state / "none.jsonl"));
  auto both = dsv4::test::run_dsv4({"run", "x", "--model", model_dir(), "--base-url", "http://127.0.0.1:1"});
  CHECK(both.exit_code == 2);
}
