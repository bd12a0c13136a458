// The tolerant grammar against a corpus of messy real-world outputs
// (tests/engine/fixtures/dsml_robustness.jsonl, one case per failure it models).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

#include "engine/dsml_arguments.hpp"
#include "engine/dsml_parser.hpp"
#include "tests/engine/jsonl.hpp"

using namespace dsv4::engine;
using Json = nlohmann::json;

namespace {

struct Run {
  ParsedMessage message;
  std::vector<std::string> text_events;  // every reasoning / content piece
};

Run parse_chunks(const std::vector<std::string>& chunks, bool thinking) {
  Run run;
  ParsedMessageBuilder builder;
  DsmlParser parser(DsmlOptions{.thinking = thinking, .strict = false}, [&](const DsmlEvent& e) {
    if (e.kind == DsmlEventKind::content || e.kind == DsmlEventKind::reasoning) run.text_events.emplace_back(e.text);
    builder(e);
  });
  for (const auto& c : chunks) parser.feed(c);
  parser.finish();
  run.message = builder.result(parser);
  return run;
}

std::vector<std::string> chunks_of(const Json& c) {
  std::vector<std::string> chunks = c["chunks"];
  size_t size = c.value("chunk_bytes", 0);
  if (size == 0) return chunks;
  std::string whole;
  for (const auto& s : chunks) whole += s;
  std::vector<std::string> pieces;
  for (size_t i = 0; i < whole.size(); i += size) pieces.push_back(whole.substr(i, size));
  return pieces;
}

void check_against(const Run& run, const Json& expect) {
  const ParsedMessage& m = run.message;
  CHECK(m.reasoning == expect["reasoning"].get<std::string>());
  CHECK(m.content == expect["content"].get<std::string>());
  CHECK(m.truncated == expect["truncated"].get<bool>());
  REQUIRE(m.tool_calls.size() == expect["calls"].size());
  for (size_t i = 0; i < m.tool_calls.size(); ++i) {
    const Json& want = expect["calls"][i];
    const ParsedToolCall& call = m.tool_calls[i];
    INFO("call " << i);
    CHECK(call.name == want["name"].get<std::string>());
    DecodedArguments decoded = decode_arguments(call);
    if (want.contains("arguments")) {
      CHECK(decoded.error.empty());
      INFO(decoded.error);
      if (decoded.error.empty()) CHECK(Json::parse(decoded.json) == want["arguments"]);
    } else {
      CHECK_THAT(decoded.error, Catch::Contains(want["error"].get<std::string>()));
    }
  }
  if (expect.contains("issue")) {
    std::string all;
    for (const auto& issue : m.issues) all += issue.message + "\n";
    CHECK_THAT(all, Catch::Contains(expect["issue"].get<std::string>()));
  }
  // Not a byte of markup reaches the reasoning or the content.
  for (const auto& text : run.text_events)
    for (const char* token : {"DSML", "<think>", "</think>", "end▁of▁sentence", "begin▁of▁sentence"})
      CHECK_THAT(text, !Catch::Contains(token));
}

}  // namespace

TEST_CASE("the robustness corpus: messy outputs are recovered, cut-off calls never run") {
  auto lines = dsv4::test::read_jsonl(std::string(DSV4_SOURCE_DIR) + "/tests/engine/fixtures/dsml_robustness.jsonl");
  REQUIRE(lines.size() >= 40);
  std::set<std::string> ids;
  for (const auto& line : lines) {
    Json c = Json::parse(line);
    std::string id = c["id"];
    INFO(id << " — " << c["models"].get<std::string>());
    CHECK(ids.insert(id).second);
    bool thinking = c["thinking"];
    check_against(parse_chunks(chunks_of(c), thinking), c["expect"]);
    // The same text in one piece and byte by byte must read the same.
    std::string whole;
    for (const auto& s : chunks_of(c)) whole += s;
    check_against(parse_chunks({whole}, thinking), c["expect"]);
    std::vector<std::string> bytes;
    for (char ch : whole) bytes.emplace_back(1, ch);
    check_against(parse_chunks(bytes, thinking), c["expect"]);
  }
}

TEST_CASE("string=\"false\" repairs are reported, and unrepairable values name the parameter") {
  ParsedToolCall call{"f", {{"a", "True", false}, {"b", "[1,]", false}, {"c", "x", true}}, ""};
  DecodedArguments decoded = decode_arguments(call);
  CHECK(decoded.error.empty());
  CHECK(decoded.json == R"({"a": true, "b": [1], "c": "x"})");
  CHECK(decoded.repairs.size() == 2);
  ParsedToolCall broken{"bash", {{"timeout_s", "30s", false}}, ""};
  DecodedArguments bad = decode_arguments(broken);
  CHECK(bad.json.empty());
  CHECK_THAT(bad.error, Catch::Contains("tool call 'bash'") && Catch::Contains("'timeout_s'") &&
                            Catch::Contains("`30s`") && Catch::Contains("string=\"true\""));
  // A Python literal inside a string is text, not a literal to rewrite.
  ParsedToolCall quoted{"f", {{"a", R"(["True", None])", false}}, ""};
  CHECK(decode_arguments(quoted).json == R"({"a": ["True", null]})");
}
