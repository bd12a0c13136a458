#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/dsml_parser.hpp"
#include "tests/engine/jsonl.hpp"

using namespace dsv4::engine;
using Json = nlohmann::ordered_json;

namespace {

std::vector<Json> parse_cases() {
  std::vector<Json> cases;
  for (const auto& line : dsv4::test::read_jsonl(dsv4::test::kGoldenEncoding + "parse_cases.jsonl"))
    cases.push_back(Json::parse(line));
  return cases;
}

DsmlOptions options_of(const Json& input, bool strict = true) {
  return DsmlOptions{.thinking = input["thinking_mode"] == "thinking", .strict = strict};
}

// The message as the reference returns it, or "error:format" / "error:structure".
Json reference_result(const std::vector<std::string_view>& chunks, DsmlOptions options) {
  ParsedMessageBuilder builder;
  DsmlParser parser(options, [&](const DsmlEvent& e) { builder(e); });
  try {
    for (auto chunk : chunks) parser.feed(chunk);
    parser.finish();
  } catch (const DsmlError& e) {
    return e.kind() == DsmlError::Kind::format ? "error:format" : "error:structure";
  }
  ParsedMessage m = builder.result(parser);
  Json calls = Json::array();
  for (const auto& c : m.tool_calls)
    calls.push_back({{"type", "function"}, {"function", {{"name", c.name}, {"arguments", reference_arguments(c)}}}});
  return {{"role", "assistant"}, {"content", m.content}, {"reasoning_content", m.reasoning}, {"tool_calls", calls}};
}

Json expected_result(const Json& c) {
  if (c.contains("expected")) return c["expected"];
  // AssertionError: message-level format; ValueError: the DSML structure.
  return c["expected_error"]["type"] == "AssertionError" ? "error:format" : "error:structure";
}

}  // namespace

TEST_CASE("every golden parse case gives the reference's message, or its kind of error") {
  auto cases = parse_cases();
  REQUIRE(cases.size() >= 34);
  for (const Json& c : cases) {
    INFO(c["id"].get<std::string>());
    std::string text = c["input"]["text"];
    CHECK(reference_result({text}, options_of(c["input"])) == expected_result(c));
  }
}

TEST_CASE("chunk-split fuzz: every split point and byte-by-byte feeding give the same result") {
  for (const Json& c : parse_cases()) {
    INFO(c["id"].get<std::string>());
    std::string text = c["input"]["text"];
    std::string_view view = text;
    Json expected = expected_result(c);
    for (size_t split = 0; split <= text.size(); ++split) {
      Json got = reference_result({view.substr(0, split), view.substr(split)}, options_of(c["input"]));
      if (got != expected) {
        FAIL_CHECK("split at byte " << split << ": " << got.dump());
        break;
      }
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < text.size(); ++i) bytes.push_back(view.substr(i, 1));
    CHECK(reference_result(bytes, options_of(c["input"])) == expected);
  }
}

TEST_CASE("the tolerant grammar reads every golden success the same way") {
  for (const Json& c : parse_cases()) {
    if (!c.contains("expected")) continue;
    INFO(c["id"].get<std::string>());
    std::string text = c["input"]["text"];
    ParsedMessage m = parse_completion(text, options_of(c["input"], false));
    CHECK(m.content == c["expected"]["content"].get<std::string>());
    CHECK(m.reasoning == c["expected"]["reasoning_content"].get<std::string>());
    REQUIRE(m.tool_calls.size() == c["expected"]["tool_calls"].size());
    for (size_t i = 0; i < m.tool_calls.size(); ++i) {
      CHECK(m.tool_calls[i].error.empty());
      CHECK(reference_arguments(m.tool_calls[i]) == c["expected"]["tool_calls"][i]["function"]["arguments"].get<std::string>());
    }
  }
}
