// A corpus of broken model outputs, each modelled on a public failure report (named in its
// `source`): DSML leaked into content or reasoning in every variant seen, JSON calls in text,
// broken and cut-off arguments. Each goes through what the loop does with a model turn —
// recover_leaked_calls, then prepare_call — and must give exactly the expected calls or
// errors, with no tool-call markup left in what the user sees.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/tool_repair.hpp"
#include "tools/tool.hpp"

using namespace dsv4::agent;
using Json = nlohmann::json;

namespace {

std::vector<Json> load_corpus() {
  std::ifstream in(std::string(DSV4_SOURCE_DIR) + "/tests/agent/fixtures/broken_outputs.jsonl");
  std::vector<Json> cases;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) cases.push_back(Json::parse(line));
  return cases;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \n\t"), b = s.find_last_not_of(" \n\t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

TEST_CASE("broken model outputs from failure reports become the right calls or errors",
          "[agent][repair][corpus]") {
  const std::vector<Json> corpus = load_corpus();
  REQUIRE(corpus.size() >= 60);
  for (const Json& c : corpus) {
    INFO(c["id"].get<std::string>() << " (" << c["source"].get<std::string>() << ")");
    Message m = message_from_json(c["message"]);
    std::vector<ToolCall> calls = m.tool_calls;
    std::vector<std::string> errors(calls.size());
    for (LeakedCall& leaked : recover_leaked_calls(m)) {
      calls.push_back(leaked.call);
      errors.push_back(leaked.error);
    }
    const Json& expected = c["expect"]["calls"];
    CHECK(calls.size() == expected.size());
    if (calls.size() != expected.size()) continue;
    for (size_t i = 0; i < calls.size(); ++i) {
      INFO("call " << i << ": " << calls[i].name << " " << calls[i].arguments);
      PreparedCall p = prepare_call(calls[i]);
      std::string error = !errors[i].empty() ? errors[i] : p.error;
      INFO("error: " << error);
      if (expected[i].contains("error")) {
        CHECK_THAT(error, Catch::Contains(expected[i]["error"].get<std::string>()));
      } else {
        CHECK(error.empty());
        CHECK(p.tool != nullptr);
        if (p.tool) CHECK(std::string(p.tool->name) == expected[i]["name"]);
        if (error.empty()) CHECK(Json::parse(p.arguments) == expected[i]["arguments"]);
      }
    }
    CHECK(trim(m.content) == trim(c["expect"]["content"].get<std::string>()));
    for (const char* markup : {"DSML｜", "DSML|", "DSML‖", "<tool_call>", "</tool_call>", "</parameter>"})
      CHECK_THAT(m.content, !Catch::Contains(markup));
  }
}
