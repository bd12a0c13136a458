#include "agent/anthropic_client.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "agent/anthropic_messages.hpp"
#include "agent/http.hpp"
#include "agent/reasoning.hpp"
#include "tests/agent/client_test_support.hpp"
#include "tests/agent/fake_anthropic.hpp"

using namespace dsv4::agent;
using dsv4::test::AnthropicTurn;
using dsv4::test::FakeAnthropic;
using dsv4::test::ScriptedReply;
using dsv4::test::signature_for;
using Json = nlohmann::json;

namespace {

RemoteConfig config_for(const FakeAnthropic& server) {
  // A trailing slash on the base URL must not double.
  RemoteConfig c = dsv4::test::fast_retry_config(server.base_url() + "/", "sk-ant-test");
  c.api_key_name = "ANTHROPIC_KEY_VAR";
  return c;
}

const char* kTools =
    R"([{"type":"function","function":{"name":"read_file","description":"Reads a file.",)"
    R"("parameters":{"type":"object","properties":{"path":{"type":"string"}}}}},)"
    R"({"type":"function","function":{"name":"list_files","parameters":{"type":"object"}}}])";

ChatRequest simple_request(Thinking thinking = Thinking::high) {
  ChatRequest r;
  r.messages = {system_message("sys"), user_message("hello")};
  r.tools_json = kTools;
  r.thinking = thinking;
  r.max_tokens = 4000;
  return r;
}

// Tool inputs with escapes, non-ASCII text and nesting, so that pieces split them anywhere.
AnthropicTurn call_turn(size_t input_piece = 9) {
  AnthropicTurn t;
  t.thinking = "I should read the file — ünïcode thinking,\n\"quoted\" too.";
  t.text = "Reading two things.";
  t.calls = {{"toolu_a", "read_file", R"({"path": "src/ma\"in\\.cpp", "note": "naïve → ok"})"},
             {"toolu_b", "list_files", R"({"path": ".", "deep": {"n": [1, 2.5, null]}})"}};
  t.input_piece = input_piece;
  t.input_tokens = 100;
  t.cache_read = 900;
  t.cache_write = 10;
  t.output_tokens = 42;
  return t;
}

dsv4::test::Notices notice_log;
std::vector<std::string>& notices = notice_log.texts;
EventSink collect_notices() { return notice_log.sink(); }

}  // namespace

TEST_CASE("a streamed Anthropic turn with thinking and text, and the request it came from",
          "[agent][anthropic]") {
  AnthropicTurn t;
  t.thinking = "Think — with ünïcode\nand lines.";
  t.text = "Hello there, in pieces.";
  FakeAnthropic server({dsv4::test::anthropic_sse(t)});
  std::string reasoning, content;
  int usage_events = 0;
  std::string finish;
  ChatResponse r =
      AnthropicClient(config_for(server)).complete(simple_request(), [&](const StreamEvent& e) {
        if (e.kind == StreamEventKind::reasoning_delta) reasoning += e.text;
        if (e.kind == StreamEventKind::content_delta) content += e.text;
        if (e.kind == StreamEventKind::usage) ++usage_events;
        if (e.kind == StreamEventKind::finish) finish = e.text;
      });
  CHECK(r.message.role == Role::assistant);
  CHECK(r.message.reasoning_content == t.thinking);
  CHECK(r.message.reasoning_signature == signature_for(t.thinking));
  CHECK(r.message.content == t.text);
  CHECK(r.message.tool_calls.empty());
  CHECK(reasoning == t.thinking);
  CHECK(content == t.text);
  CHECK(r.finish_reason == "stop");
  CHECK(finish == "stop");
  CHECK(usage_events == 1);
  CHECK(r.usage.input == 100);  // input_tokens 40 + cache_read 60
  CHECK(r.usage.cache_hit == 60);
  CHECK(r.usage.cache_miss == 40);
  CHECK(r.usage.output == 20);

  auto rq = server.requests();
  REQUIRE(rq.size() == 1);
  CHECK(rq[0].status == 200);
  CHECK(rq[0].path == "/v1/messages");
  CHECK(rq[0].headers["x-api-key"] == "sk-ant-test");
  CHECK(rq[0].headers["anthropic-version"] == "2023-06-01");
  CHECK_FALSE(rq[0].headers.count("authorization"));
  const Json& body = rq[0].json;
  CHECK(body["model"] == "deepseek-v4-flash");
  CHECK(body["max_tokens"] == 4000);
  CHECK(body["stream"] == true);
  CHECK(body["system"] == "sys");
  CHECK(body["thinking"] == Json{{"type", "enabled"}, {"budget_tokens", 2000}});
  CHECK_FALSE(body.contains("output_config"));
  CHECK(body["messages"] ==
        Json::parse(R"([{"role":"user","content":[{"type":"text","text":"hello"}]}])"));
  CHECK(body["tools"] == Json::parse(R"([
    {"name":"read_file","description":"Reads a file.",
     "input_schema":{"type":"object","properties":{"path":{"type":"string"}}}},
    {"name":"list_files","input_schema":{"type":"object"}}])"));
}

TEST_CASE("a tool-use turn, then the thinking goes back signed with the tool results",
          "[agent][anthropic]") {
  const size_t piece = GENERATE(1u, 2u, 3u, 5u, 9u, 1000u);
  INFO("input_json_delta pieces of " << piece << " bytes");
  AnthropicTurn done;
  done.text = "Both read.";
  FakeAnthropic server(
      {dsv4::test::anthropic_sse(call_turn(piece)), dsv4::test::anthropic_sse(done)});
  AnthropicClient client(config_for(server));
  ChatRequest request = simple_request();
  std::map<int, std::string> streamed;
  int starts = 0, ends = 0;
  ChatResponse first = client.complete(request, [&](const StreamEvent& e) {
    if (e.kind == StreamEventKind::tool_call_delta) streamed[e.index] += e.text;
    starts += e.kind == StreamEventKind::tool_call_start;
    ends += e.kind == StreamEventKind::tool_call_end;
  });
  const AnthropicTurn spec = call_turn(piece);
  REQUIRE(first.message.tool_calls.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(first.message.tool_calls[i].id == spec.calls[i].id);
    CHECK(first.message.tool_calls[i].name == spec.calls[i].name);
    CHECK(first.message.tool_calls[i].arguments == spec.calls[i].input);  // byte for byte
    CHECK(streamed[static_cast<int>(i)] == spec.calls[i].input);
  }
  CHECK(starts == 2);
  CHECK(ends == 2);
  CHECK(first.finish_reason == "tool_calls");
  CHECK(first.message.content == spec.text);
  CHECK(first.usage.input == 1010);
  CHECK(first.usage.cache_hit == 900);

  request.messages.push_back(first.message);
  request.messages.push_back(tool_message("toolu_a", "file A"));
  request.messages.push_back(tool_message("toolu_b", "listing B"));
  ChatResponse second = client.complete(request, {});
  CHECK(second.message.content == "Both read.");

  auto rq = server.requests();
  REQUIRE(rq.size() == 2);
  CHECK(rq[1].status == 200);  // the server checked the signature and the tool results
  const Json& messages = rq[1].json["messages"];
  REQUIRE(messages.size() == 3);
  const Json& assistant = messages[1]["content"];
  REQUIRE(assistant.size() == 4);
  CHECK(assistant[0] == Json{{"type", "thinking"},
                             {"thinking", spec.thinking},
                             {"signature", signature_for(spec.thinking)}});
  CHECK(assistant[1] == Json{{"type", "text"}, {"text", spec.text}});
  CHECK(assistant[2]["type"] == "tool_use");
  CHECK(assistant[2]["input"] == Json::parse(spec.calls[0].input));
  CHECK(assistant[3]["input"] == Json::parse(spec.calls[1].input));
  // Both results in one user message, right after the assistant's.
  CHECK(messages[2] == Json::parse(R"({"role":"user","content":[
    {"type":"tool_result","tool_use_id":"toolu_a","content":"file A"},
    {"type":"tool_result","tool_use_id":"toolu_b","content":"listing B"}]})"));
}

TEST_CASE("the fake Anthropic server refuses what the real API refuses",
          "[agent][anthropic][server]") {
  FakeAnthropic server({});
  Message call;
  call.role = Role::assistant;
  call.reasoning_content = "plan";
  call.reasoning_signature = signature_for("plan");
  call.tool_calls = {{"toolu_1", "read_file", R"({"path":"a"})"}};
  std::vector<Message> history = {user_message("go"), call, tool_message("toolu_1", "x")};
  auto post = [&](Json messages, Json thinking, std::vector<std::string> headers = {}) {
    HttpRequest http;
    http.url = server.base_url() + "/v1/messages";
    http.headers = headers.empty() ? std::vector<std::string>{"Content-Type: application/json",
                                                              "x-api-key: sk-ant-test",
                                                              "anthropic-version: 2023-06-01"}
                                   : headers;
    http.body =
        Json{{"model", "m"}, {"max_tokens", 2000}, {"messages", messages}, {"thinking", thinking}}
            .dump();
    return http_post(http, [](std::string_view) {});
  };
  const Json on = {{"type", "enabled"}, {"budget_tokens", 1024}};
  // Right: the script is empty, so the request gets as far as the 500 that says so.
  CHECK(post(anthropic_messages(history, true), on).status == 500);

  HttpResponse r = post(anthropic_messages(history, false), on);  // no thinking block
  CHECK(r.status == 400);
  CHECK_THAT(r.body, Catch::Contains("must start with a thinking block"));
  CHECK(Json::parse(r.body)["error"]["type"] == "invalid_request_error");
  CHECK(post(anthropic_messages(history, false), {{"type", "disabled"}}).status == 500);

  history[1].reasoning_content = "plan, edited";
  CHECK_THAT(post(anthropic_messages(history, true), on).body,
             Catch::Contains("Invalid `signature`"));
  history[1].reasoning_content = "plan";
  history[1].reasoning_signature.reset();
  CHECK_THAT(post(anthropic_messages(history, true), on).body,
             Catch::Contains("signature: Field required"));

  CHECK_THAT(
      post(Json::array({message_to_json(system_message("s")), message_to_json(user_message("u"))}),
           {{"type", "disabled"}})
          .body,
      Catch::Contains("messages.0.role"));
  CHECK_THAT(post(anthropic_messages({user_message("go"), call}, true), on).body,
             Catch::Contains("without `tool_result`"));
  CHECK_THAT(post(anthropic_messages({user_message("a")}, true),
                  {{"type", "enabled"}, {"budget_tokens", 2000}})
                 .body,
             Catch::Contains("greater than `thinking.budget_tokens`"));
  CHECK(post(anthropic_messages({user_message("a")}, true), on,
             {"Content-Type: application/json", "x-api-key: sk-ant-test"})
            .status == 400);
}

TEST_CASE("a non-streamed Anthropic turn", "[agent][anthropic]") {
  FakeAnthropic server({dsv4::test::anthropic_json(call_turn())});
  RemoteConfig c = config_for(server);
  c.stream = false;
  std::string args;
  ChatResponse r =
      AnthropicClient(c).complete(simple_request(Thinking::max), [&](const StreamEvent& e) {
        if (e.kind == StreamEventKind::tool_call_delta && e.index == 1) args += e.text;
      });
  const AnthropicTurn spec = call_turn();
  CHECK(r.message.reasoning_content == spec.thinking);
  CHECK(r.message.reasoning_signature == signature_for(spec.thinking));
  CHECK(r.message.content == spec.text);
  REQUIRE(r.message.tool_calls.size() == 2);
  CHECK(Json::parse(r.message.tool_calls[0].arguments) == Json::parse(spec.calls[0].input));
  CHECK(Json::parse(args) == Json::parse(spec.calls[1].input));
  CHECK(r.finish_reason == "tool_calls");
  CHECK(r.usage.output == 42);
  const Json body = server.requests().at(0).json;
  CHECK(body["stream"] == false);
  CHECK(body["thinking"]["budget_tokens"] == 3000);  // max: all but a quarter, at most 4096
  CHECK(body["output_config"] == Json{{"effort", "max"}});
}

TEST_CASE("thinking off sends no thinking blocks; a max_tokens too small for a budget is refused",
          "[agent][anthropic]") {
  AnthropicTurn answer;
  answer.text = "ok";
  FakeAnthropic server({dsv4::test::anthropic_sse(answer)});
  ChatRequest request = simple_request(Thinking::off);
  Message old;
  old.role = Role::assistant;
  old.reasoning_content = "secret";
  old.reasoning_signature = signature_for("secret");
  old.tool_calls = {{"toolu_1", "read_file", R"({"path":"a"})"}};
  request.messages.insert(request.messages.end(), {old, tool_message("toolu_1", "r")});
  CHECK(AnthropicClient(config_for(server)).complete(request, {}).message.content == "ok");
  const Json body = server.requests().at(0).json;
  CHECK(body["thinking"] == Json{{"type", "disabled"}});
  CHECK(body["messages"][1]["content"][0]["type"] == "tool_use");
  CHECK(body.dump().find("secret") == std::string::npos);

  ChatRequest tiny = simple_request(Thinking::high);
  tiny.max_tokens = 1024;
  try {
    AnthropicClient(config_for(server)).complete(tiny, {});
    FAIL("no error");
  } catch (const ModelError& e) {
    CHECK(e.kind() == ModelError::Kind::invalid_parameter);
    CHECK_THAT(e.what(), Catch::Contains("--max-tokens") && Catch::Contains("--thinking off"));
  }
  CHECK(server.requests().size() == 1);  // nothing sent
}

TEST_CASE("Anthropic 429 honours retry-after and shows the API's message",
          "[agent][anthropic][retry]") {
  ScriptedReply busy = dsv4::test::anthropic_error(
      429, "rate_limit_error", "Number of request tokens has exceeded your rate limit");
  busy.headers = {{"retry-after", "1"}};
  AnthropicTurn answer;
  answer.text = "fine";
  FakeAnthropic server({busy, dsv4::test::anthropic_sse(answer)});
  auto started = std::chrono::steady_clock::now();
  ChatResponse r =
      AnthropicClient(config_for(server)).complete(simple_request(), collect_notices());
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(950));
  CHECK(r.message.content == "fine");
  CHECK(server.requests().size() == 2);
  REQUIRE(notices.size() == 1);
  CHECK_THAT(notices[0],
             Catch::Contains("HTTP 429") && Catch::Contains("exceeded your rate limit"));
}

TEST_CASE("Anthropic 529 overloaded is retried, then the fallback model answers",
          "[agent][anthropic][retry]") {
  auto overloaded = dsv4::test::anthropic_error(529, "overloaded_error", "Overloaded");
  AnthropicTurn answer;
  answer.text = "from the fallback";
  SECTION("fallback") {
    FakeAnthropic server({overloaded, overloaded, overloaded, dsv4::test::anthropic_sse(answer)});
    RemoteConfig c = config_for(server);
    c.model = "deepseek-v4-pro";
    c.fallback_model = "deepseek-v4-flash";
    ChatResponse r = AnthropicClient(c).complete(simple_request(), collect_notices());
    CHECK(r.message.content == "from the fallback");
    CHECK(r.model == "deepseek-v4-flash");
    auto rq = server.requests();
    REQUIRE(rq.size() == 4);
    CHECK(rq[2].json["model"] == "deepseek-v4-pro");
    CHECK(rq[3].json["model"] == "deepseek-v4-flash");
    CHECK_THAT(notices.at(0), Catch::Contains("HTTP 529") && Catch::Contains("Overloaded"));
    CHECK_THAT(notices.back(), Catch::Contains("fallback model deepseek-v4-flash"));
  }
  SECTION("no fallback") {
    FakeAnthropic server({overloaded, overloaded, overloaded, overloaded});
    try {
      AnthropicClient(config_for(server)).complete(simple_request(), {});
      FAIL("no error");
    } catch (const ModelError& e) {
      CHECK(e.kind() == ModelError::Kind::unavailable);
      CHECK_THAT(e.what(), Catch::Contains("3 attempts") && Catch::Contains("Overloaded"));
    }
    CHECK(server.requests().size() == 3);
  }
}

TEST_CASE("Anthropic 401 and 400 stop at once with a clear message", "[agent][anthropic][errors]") {
  SECTION("401 from a wrong key") {
    FakeAnthropic server({}, "sk-ant-right");
    std::vector<std::string> errors;
    try {
      AnthropicClient(config_for(server)).complete(simple_request(), [&](const StreamEvent& e) {
        if (e.kind == StreamEventKind::error) errors.push_back(e.text);
      });
      FAIL("no error");
    } catch (const ModelError& e) {
      CHECK(e.kind() == ModelError::Kind::auth);
      CHECK(e.status() == 401);
      CHECK_THAT(e.what(), Catch::Contains("check your API key") &&
                               Catch::Contains("ANTHROPIC_KEY_VAR") &&
                               Catch::Contains("invalid x-api-key"));
      CHECK(errors == std::vector<std::string>{e.what()});
    }
    CHECK(server.requests().size() == 1);
  }
  SECTION("400 shows the API's message") {
    FakeAnthropic server({dsv4::test::anthropic_error(
        400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum")});
    try {
      AnthropicClient(config_for(server)).complete(simple_request(), {});
      FAIL("no error");
    } catch (const ModelError& e) {
      CHECK(e.kind() == ModelError::Kind::bad_request);
      CHECK_THAT(e.what(), Catch::Contains("HTTP 400") && Catch::Contains("prompt is too long"));
    }
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("a cut Anthropic stream and an error event are retried without doubling the text",
          "[agent][anthropic][retry]") {
  AnthropicTurn answer;
  answer.thinking = "thinking about the answer at some length";
  answer.text = "the complete answer, streamed in pieces";
  ScriptedReply cut = dsv4::test::anthropic_sse(answer);
  cut.cut = true;
  ScriptedReply overloaded = dsv4::test::anthropic_sse(answer);
  overloaded.sse.resize(5);
  overloaded.sse.push_back(
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  FakeAnthropic server({cut, overloaded, dsv4::test::anthropic_sse(answer)});
  std::string content;
  std::vector<std::string> retries;
  ChatResponse r =
      AnthropicClient(config_for(server)).complete(simple_request(), [&](const StreamEvent& e) {
        if (e.kind == StreamEventKind::content_delta) content += e.text;
        if (e.kind == StreamEventKind::notice) retries.push_back(e.text);
      });
  REQUIRE(retries.size() == 2);
  CHECK_THAT(retries[0], Catch::Contains("stream"));
  CHECK_THAT(retries[1], Catch::Contains("mid-stream") && Catch::Contains("Overloaded"));
  CHECK(r.message.content == answer.text);
  CHECK(r.message.reasoning_content == answer.thinking);
  CHECK(r.message.reasoning_signature == signature_for(answer.thinking));
  CHECK(server.requests().size() == 3);
  CHECK_THAT(content, Catch::EndsWith(answer.text));
}

TEST_CASE("DeepSeek's demand for every thinking block is met once by resending them",
          "[agent][anthropic][reasoning]") {
  AnthropicTurn answer;
  answer.text = "ok";
  FakeAnthropic server(
      {dsv4::test::anthropic_error(
           400, "invalid_request_error",
           "The `content[].thinking` in the thinking mode must be passed back to the API."),
       dsv4::test::anthropic_sse(answer)});
  ChatRequest request = simple_request();
  Message old;
  old.role = Role::assistant;
  old.reasoning_content = "old plan";
  old.reasoning_signature = signature_for("old plan");
  old.tool_calls = {{"toolu_1", "read_file", R"({"path":"a"})"}};
  request.messages = {system_message("s"), user_message("one"), old, tool_message("toolu_1", "r"),
                      user_message("two")};
  ChatResponse r = AnthropicClient(config_for(server)).complete(request, collect_notices());
  CHECK(r.message.content == "ok");
  auto rq = server.requests();
  REQUIRE(rq.size() == 2);
  CHECK(rq[0].json["messages"][1]["content"][0]["type"] == "tool_use");
  CHECK(rq[1].json["messages"][1]["content"][0] == Json{{"type", "thinking"},
                                                        {"thinking", "old plan"},
                                                        {"signature", signature_for("old plan")}});
  // The last user message follows the tool result in the same user turn.
  CHECK(rq[1].json["messages"][2]["content"][1] == Json{{"type", "text"}, {"text", "two"}});
  CHECK_THAT(notices.at(0), Catch::Contains("thinking"));
}

TEST_CASE("the thinking signature survives the session file and stays out of OpenAI requests",
          "[agent][anthropic][session]") {
  Message m;
  m.role = Role::assistant;
  m.reasoning_content = "why";
  m.reasoning_signature = "EqQB+abc/==";
  m.tool_calls = {{"toolu_1", "read_file", "{}"}};
  Message back = message_from_json(message_to_json(m));
  CHECK(back.reasoning_signature == m.reasoning_signature);
  CHECK(back.reasoning_content == "why");
  CHECK_FALSE(message_from_json(message_to_json(user_message("u"))).reasoning_signature);
  Json openai = request_messages({user_message("u"), m}, true);
  CHECK(openai[1]["reasoning_content"] == "why");
  CHECK_FALSE(openai[1].contains("reasoning_signature"));
}
