#include "agent/openai_client.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "agent/http.hpp"
#include "tests/agent/client_test_support.hpp"
#include "tests/agent/fake_deepseek.hpp"

using namespace dsv4::agent;
using dsv4::test::FakeDeepSeek;
using dsv4::test::ScriptedReply;
using dsv4::test::TurnSpec;
using Json = nlohmann::json;

namespace {

OpenAiConfig config_for(const FakeDeepSeek& server) {
  OpenAiConfig c;
  static_cast<RemoteConfig&>(c) = dsv4::test::fast_retry_config(server.base_url(), "sk-test");
  return c;
}

ChatRequest simple_request(Thinking thinking = Thinking::high) {
  ChatRequest r;
  r.messages = {system_message("sys"), user_message("hello")};
  r.tools_json =
      R"([{"type":"function","function":{"name":"read_file","parameters":{"type":"object"}}}])";
  r.thinking = thinking;
  r.max_tokens = 1234;
  return r;
}

TurnSpec call_turn() {
  TurnSpec t;
  t.reasoning = "I should read the file — ünïcode thinking.";
  t.content = "";
  t.calls = {{"call_a", "read_file", R"({"path": "src/main.cpp", "limit": 50})"},
             {"call_b", "list_files", R"({"path": "."})"}};
  t.prompt_tokens = 1000;
  t.cache_hit = 900;
  t.completion_tokens = 42;
  return t;
}

dsv4::test::Notices notice_log;
std::vector<std::string>& notices = notice_log.texts;
EventSink collect_notices() { return notice_log.sink(); }

}  // namespace

TEST_CASE("a streamed turn is assembled and the request follows DeepSeek's API",
          "[agent][client]") {
  FakeDeepSeek server({dsv4::test::sse_turn(call_turn())});
  OpenAiClient client(config_for(server));
  std::string streamed_reasoning, streamed_args;
  int starts = 0, ends = 0;
  ChatResponse r = client.complete(simple_request(), [&](const StreamEvent& e) {
    if (e.kind == StreamEventKind::reasoning_delta) streamed_reasoning += e.text;
    if (e.kind == StreamEventKind::tool_call_delta && e.index == 0) streamed_args += e.text;
    starts += e.kind == StreamEventKind::tool_call_start;
    ends += e.kind == StreamEventKind::tool_call_end;
  });
  CHECK(r.message.reasoning_content == call_turn().reasoning);
  CHECK(streamed_reasoning == call_turn().reasoning);
  REQUIRE(r.message.tool_calls.size() == 2);
  CHECK(r.message.tool_calls[0].id == "call_a");
  CHECK(r.message.tool_calls[0].arguments == R"({"path": "src/main.cpp", "limit": 50})");
  CHECK(streamed_args == r.message.tool_calls[0].arguments);
  CHECK(r.message.tool_calls[1].name == "list_files");
  CHECK(starts == 2);
  CHECK(ends == 2);
  CHECK(r.finish_reason == "tool_calls");
  CHECK(r.usage.input == 1000);
  CHECK(r.usage.cache_hit == 900);
  CHECK(r.usage.cache_miss == 100);
  CHECK(r.usage.output == 42);

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const Json& body = requests[0].json;
  CHECK(requests[0].path == "/chat/completions");
  CHECK(body["model"] == "deepseek-v4-flash");
  CHECK(body["max_tokens"] == 1234);
  CHECK(body["stream"] == true);
  CHECK(body["stream_options"]["include_usage"] == true);
  CHECK(body["thinking"] == Json{{"type", "enabled"}});
  CHECK(body["reasoning_effort"] == "high");
  CHECK(body["tools"][0]["function"]["name"] == "read_file");
  CHECK_FALSE(body.contains("chat_template_kwargs"));
}

TEST_CASE("a JSON (non-streamed) turn with OpenAI's cached_tokens usage", "[agent][client]") {
  TurnSpec t = call_turn();
  t.openai_usage = true;
  FakeDeepSeek server({dsv4::test::json_turn(t)});
  OpenAiConfig c = config_for(server);
  c.stream = false;
  ChatResponse r = OpenAiClient(c).complete(simple_request(Thinking::max), {});
  CHECK(r.message.reasoning_content == t.reasoning);
  CHECK(r.message.tool_calls.size() == 2);
  CHECK(r.usage.cache_hit == 900);
  CHECK(r.usage.cache_miss == 100);
  const Json body = server.requests().at(0).json;
  CHECK(body["stream"] == false);
  CHECK_FALSE(body.contains("stream_options"));
  CHECK(body["reasoning_effort"] == "max");
}

TEST_CASE("providers ask for thinking their own way", "[agent][client]") {
  TurnSpec answer;
  answer.content = "hi";
  FakeDeepSeek server({dsv4::test::sse_turn(answer), dsv4::test::sse_turn(answer),
                       dsv4::test::sse_turn(answer), dsv4::test::sse_turn(answer)});
  OpenAiConfig c = config_for(server);
  c.provider = Provider::vllm;
  OpenAiClient(c).complete(simple_request(Thinking::high), {});
  c.provider = Provider::sglang;
  OpenAiClient(c).complete(simple_request(Thinking::off), {});
  c.provider = Provider::deepseek;
  OpenAiClient(c).complete(simple_request(Thinking::off), {});
  c.provider = Provider::generic;
  OpenAiClient(c).complete(simple_request(Thinking::high), {});
  auto rq = server.requests();
  REQUIRE(rq.size() == 4);
  CHECK(rq[0].json["chat_template_kwargs"] ==
        Json{{"thinking", true}, {"reasoning_effort", "high"}});
  CHECK_FALSE(rq[0].json.contains("thinking"));
  CHECK(rq[1].json["chat_template_kwargs"] == Json{{"thinking", false}});
  CHECK(rq[2].json["thinking"] == Json{{"type", "disabled"}});
  CHECK_FALSE(rq[2].json.contains("reasoning_effort"));
  CHECK_FALSE(rq[3].json.contains("thinking"));
  CHECK_FALSE(rq[3].json.contains("chat_template_kwargs"));
  for (const auto& r : rq) CHECK(r.json["max_tokens"] == 1234);
}

TEST_CASE("429 honours Retry-After and shows DeepSeek's message", "[agent][client][retry]") {
  ScriptedReply busy =
      dsv4::test::error_reply(429, "Rate limit reached for requests", "rate_limit_error");
  busy.headers = {{"Retry-After", "1"}};
  TurnSpec answer;
  answer.content = "fine";
  FakeDeepSeek server({busy, dsv4::test::sse_turn(answer)});
  auto started = std::chrono::steady_clock::now();
  ChatResponse r = OpenAiClient(config_for(server)).complete(simple_request(), collect_notices());
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(r.message.content == "fine");
  CHECK(waited >= std::chrono::milliseconds(950));  // backoff alone would be ~1 ms
  CHECK(server.requests().size() == 2);
  REQUIRE(notices.size() == 1);
  CHECK_THAT(notices[0], Catch::Contains("HTTP 429") && Catch::Contains("Rate limit reached"));
}

TEST_CASE("503 and 500 are retried, a cut stream too, without doubling the text",
          "[agent][client][retry]") {
  TurnSpec answer;
  answer.reasoning = "thinking about the answer at length";
  answer.content = "the complete answer, streamed in pieces";
  ScriptedReply cut = dsv4::test::sse_turn(answer);
  cut.cut = true;
  FakeDeepSeek server({dsv4::test::error_reply(503, "Service is too busy", "server_error"), cut,
                       dsv4::test::error_reply(500, "internal", "server_error"),
                       dsv4::test::sse_turn(answer)});
  OpenAiConfig c = config_for(server);
  c.max_attempts = 4;
  ChatResponse r = OpenAiClient(c).complete(simple_request(), collect_notices());
  CHECK(r.message.content == answer.content);
  CHECK(r.message.reasoning_content == answer.reasoning);
  CHECK(server.requests().size() == 4);
  REQUIRE(notices.size() == 3);
  CHECK_THAT(notices[1], Catch::Contains("stream"));
}

TEST_CASE("402, 401, 422 and other 400s stop at once with a clear message",
          "[agent][client][errors]") {
  SECTION("402") {
    FakeDeepSeek server({dsv4::test::error_reply(402, "Insufficient Balance", "payment_required")});
    std::vector<std::string> errors;
    try {
      OpenAiClient(config_for(server)).complete(simple_request(), [&](const StreamEvent& e) {
        if (e.kind == StreamEventKind::error) errors.push_back(e.text);
      });
      FAIL("no error");
    } catch (const ModelError& e) {
      CHECK(e.kind() == ModelError::Kind::balance);
      CHECK_THAT(e.what(), Catch::Contains("insufficient balance"));
      CHECK(errors == std::vector<std::string>{e.what()});
    }
    CHECK(server.requests().size() == 1);  // never retried
  }
  SECTION("401 from a wrong key") {
    FakeDeepSeek server({}, "sk-right");
    OpenAiConfig c = config_for(server);
    c.api_key_name = "MY_KEY_VAR";
    try {
      OpenAiClient(c).complete(simple_request(), {});
      FAIL("no error");
    } catch (const ModelError& e) {
      CHECK(e.kind() == ModelError::Kind::auth);
      CHECK(e.status() == 401);
      CHECK_THAT(e.what(), Catch::Contains("check your API key") && Catch::Contains("MY_KEY_VAR"));
    }
    CHECK(server.requests().size() == 1);
  }
  SECTION("422 names the parameter") {
    FakeDeepSeek server({dsv4::test::error_reply(422, "max_tokens must be at most 393216",
                                                 "invalid_request_error", "max_tokens")});
    CHECK_THROWS_WITH(
        OpenAiClient(config_for(server)).complete(simple_request(), {}),
        Catch::Contains("max_tokens must be") && Catch::Contains("parameter: max_tokens"));
    CHECK(server.requests().size() == 1);
  }
  SECTION("400 shows the body") {
    FakeDeepSeek server({dsv4::test::error_reply(
        400, "This model's maximum context length is 1048576 tokens", "invalid_request_error")});
    CHECK_THROWS_WITH(OpenAiClient(config_for(server)).complete(simple_request(), {}),
                      Catch::Contains("HTTP 400") && Catch::Contains("maximum context length"));
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("retries are bounded, then the fallback model answers", "[agent][client][retry]") {
  TurnSpec answer;
  answer.content = "from the fallback";
  auto busy = dsv4::test::error_reply(503, "busy", "server_error");
  SECTION("fallback") {
    FakeDeepSeek server({busy, busy, busy, dsv4::test::sse_turn(answer)});
    OpenAiConfig c = config_for(server);
    c.model = "deepseek-v4-pro";
    c.fallback_model = "deepseek-v4-flash";
    ChatResponse r = OpenAiClient(c).complete(simple_request(), collect_notices());
    CHECK(r.message.content == "from the fallback");
    CHECK(r.model == "deepseek-v4-flash");
    auto rq = server.requests();
    REQUIRE(rq.size() == 4);
    CHECK(rq[2].json["model"] == "deepseek-v4-pro");
    CHECK(rq[3].json["model"] == "deepseek-v4-flash");
    CHECK_THAT(notices.back(), Catch::Contains("fallback model deepseek-v4-flash"));
  }
  SECTION("no fallback") {
    FakeDeepSeek server({busy, busy, busy, busy});
    try {
      OpenAiClient(config_for(server)).complete(simple_request(), {});
      FAIL("no error");
    } catch (const ModelError& e) {
      CHECK(e.kind() == ModelError::Kind::unavailable);
      CHECK_THAT(e.what(), Catch::Contains("3 attempts"));
    }
    CHECK(server.requests().size() == 3);
  }
}

TEST_CASE("the fake server refuses a tool turn without reasoning_content, as DeepSeek does",
          "[agent][client][server]") {
  FakeDeepSeek server({});
  Json messages =
      Json::array({{{"role", "user"}, {"content", "go"}},
                   {{"role", "assistant"},
                    {"content", ""},
                    {"tool_calls",
                     Json::array({{{"id", "c1"},
                                   {"type", "function"},
                                   {"function", {{"name", "read_file"}, {"arguments", "{}"}}}}})}},
                   {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "x"}}});
  HttpRequest naive;
  naive.url = server.base_url() + "/chat/completions";
  naive.headers = {"Content-Type: application/json", "Authorization: Bearer sk-test"};
  naive.body = Json{{"model", "deepseek-v4-flash"}, {"messages", messages}}.dump();
  HttpResponse r = http_post(naive, [](std::string_view) {});
  CHECK(r.status == 400);
  CHECK_THAT(r.body, Catch::Contains(dsv4::test::kReasoningContentError));
  // Thinking off: the same history is fine (the script being empty then gives 500).
  naive.body = Json{{"model", "deepseek-v4-flash"},
                    {"messages", messages},
                    {"thinking", {{"type", "disabled"}}}}
                   .dump();
  CHECK(http_post(naive, [](std::string_view) {}).status == 500);
}

TEST_CASE("the reasoning_content complaint is repaired once and retried",
          "[agent][client][reasoning]") {
  TurnSpec answer;
  answer.content = "ok";
  FakeDeepSeek server({dsv4::test::sse_turn(answer)});
  server.require_reasoning_everywhere(true);
  ChatRequest request = simple_request();
  Message old_call;
  old_call.role = Role::assistant;
  old_call.reasoning_content = "old";
  old_call.tool_calls = {{"c1", "read_file", R"({"path":"a"})"}};
  request.messages = {system_message("s"), user_message("one"), old_call, tool_message("c1", "r"),
                      user_message("two")};
  ChatResponse r = OpenAiClient(config_for(server)).complete(request, collect_notices());
  CHECK(r.message.content == "ok");
  auto rq = server.requests();
  REQUIRE(rq.size() == 2);
  CHECK(rq[0].status == 400);
  CHECK_FALSE(rq[0].json["messages"][2].contains("reasoning_content"));
  CHECK(rq[1].json["messages"][2]["reasoning_content"] == "");
  CHECK_THAT(notices.at(0), Catch::Contains("reasoning_content"));
}

TEST_CASE("old model names map to deepseek-v4-flash with a note", "[agent][client]") {
  std::string model = "deepseek-reasoner";
  Thinking thinking = Thinking::off;
  CHECK_THAT(apply_model_alias(model, thinking), Catch::Contains("deprecated"));
  CHECK(model == "deepseek-v4-flash");
  CHECK(thinking == Thinking::high);
  model = "deepseek-chat";
  thinking = Thinking::max;
  CHECK_FALSE(apply_model_alias(model, thinking).empty());
  CHECK(thinking == Thinking::off);
  model = "deepseek-v4-pro";
  CHECK(apply_model_alias(model, thinking).empty());
  CHECK(model == "deepseek-v4-pro");
}
