// Strict function calling and JSON output against the scripted DeepSeek server, which
// refuses strict tools off the beta endpoint, open schemas, and JSON mode without "json".
#include "agent/strict_schema.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/loop.hpp"
#include "agent/openai_client.hpp"
#include "agent/tool_repair.hpp"
#include "tests/agent/client_test_support.hpp"
#include "tests/agent/fake_deepseek.hpp"
#include "tools/registry.hpp"
#include "tools/schema.hpp"

using namespace dsv4::agent;
using dsv4::test::FakeDeepSeek;
using dsv4::test::TurnSpec;
using Json = nlohmann::json;

namespace {

OpenAiConfig config_for(const FakeDeepSeek& server) {
  OpenAiConfig c;
  static_cast<RemoteConfig&>(c) = dsv4::test::fast_retry_config(server.base_url(), "sk-test", 1);
  return c;
}

ChatRequest request_with_tools(std::string task) {
  ChatRequest r;
  r.messages = {system_message("You are a coding agent."), user_message(std::move(task))};
  r.tools_json = tools_json();
  return r;
}

TurnSpec read_call_with_nulls() {
  TurnSpec t;
  t.reasoning = "read it";
  t.calls = {{"c1", "read_file", R"({"path": "a.txt", "offset": null, "limit": null})"}};
  return t;
}

}  // namespace

TEST_CASE("every tool's schema has a strict form that keeps its meaning", "[agent][strict]") {
  for (const dsv4::tools::Tool& tool : dsv4::tools::all_tools()) {
    INFO(tool.name);
    const Json original = Json::parse(tool.schema);
    auto strict = strict_schema(original);
    REQUIRE(strict);
    CHECK((*strict)["additionalProperties"] == false);
    CHECK((*strict)["required"].size() == (*strict)["properties"].size());
    for (auto& [name, property] : (*strict)["properties"].items()) {
      const Json required = original.value("required", Json::array());
      const bool was_required = std::find(required.begin(), required.end(), name) != required.end();
      if (was_required) {
        CHECK(property == original["properties"][name]);
      } else {
        REQUIRE(property.contains("anyOf"));
        CHECK(property["anyOf"][0] == original["properties"][name]);
        CHECK(property["anyOf"][1] == Json{{"type", "null"}});
      }
    }
  }
  // A map (free keys) cannot be strict: sent as it is.
  CHECK_FALSE(strict_schema(Json::parse(
      R"({"type":"object","properties":{"env":{"type":"object","additionalProperties":{"type":"string"}}}})")));
  CHECK_FALSE(strict_schema(Json::parse(R"({"type":"object"})")));
}

TEST_CASE("strict tools go to DeepSeek's beta endpoint with closed schemas", "[agent][strict]") {
  FakeDeepSeek server({sse_turn(read_call_with_nulls())});
  OpenAiConfig config = config_for(server);
  config.strict_tools = true;
  OpenAiClient client(config);
  ChatResponse r = client.complete(request_with_tools("read a.txt"), {});
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].status == 200);
  CHECK(reqs[0].path == "/beta/chat/completions");
  for (const Json& tool : reqs[0].json["tools"]) CHECK(tool["function"]["strict"] == true);
  // The nulls strict mode produces for optional fields are dropped before the tool runs.
  REQUIRE(r.message.tool_calls.size() == 1);
  PreparedCall p = prepare_call(r.message.tool_calls[0]);
  CHECK(p.error.empty());
  CHECK(Json::parse(p.arguments) == Json{{"path", "a.txt"}});
  // A null for a required field is still an error naming it.
  PreparedCall bad = prepare_call({"c2", "read_file", R"({"path": null})"});
  CHECK_THAT(bad.error, Catch::Contains("path"));
}

TEST_CASE("the scripted server refuses what DeepSeek refuses in strict and JSON modes",
          "[agent][strict]") {
  // Strict tools on the ordinary endpoint: the client must not send that.
  FakeDeepSeek server({});
  OpenAiConfig config = config_for(server);
  config.strict_tools = true;
  config.provider = Provider::vllm;  // no beta rewrite for vLLM
  OpenAiClient client(config);
  CHECK_THROWS_WITH(client.complete(request_with_tools("read a.txt"), {}),
                    Catch::Contains("beta endpoint"));
}

TEST_CASE("JSON output is asked for, and refused early when the prompt never says json",
          "[agent][strict]") {
  TurnSpec t;
  t.content = R"({"verdict": "fixed", "files": ["a.txt"]})";
  FakeDeepSeek server({sse_turn(t)});
  OpenAiConfig config = config_for(server);
  config.json_output = true;
  OpenAiClient client(config);
  CHECK_THROWS_WITH(client.complete(request_with_tools("fix the bug"), {}),
                    Catch::Contains("\"json\""));
  CHECK(server.requests().empty());  // refused before sending
  ChatResponse r = client.complete(request_with_tools("fix the bug; answer in JSON"), {});
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].json["response_format"] == Json{{"type", "json_object"}});
  CHECK(Json::parse(r.message.content)["verdict"] == "fixed");
}
