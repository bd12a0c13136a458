#include "agent/reasoning.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace dsv4::agent;
using Json = nlohmann::json;

namespace {

Message assistant(std::optional<std::string> reasoning, bool calls, std::string content = "") {
  Message m;
  m.role = Role::assistant;
  m.content = std::move(content);
  m.reasoning_content = std::move(reasoning);
  if (calls) m.tool_calls.push_back({"c", "read_file", "{}"});
  return m;
}

}  // namespace

TEST_CASE("reasoning_content follows DeepSeek's rules", "[agent][reasoning]") {
  std::vector<Message> history = {
      system_message("s"),
      user_message("first"),
      assistant("old thought", true),  // 2: earlier user turn: dropped
      tool_message("c", "r"),
      assistant("old answer thought", false, "done"),  // 4
      user_message("second"),
      assistant("new thought", true),  // 6: kept
      tool_message("c", "r"),
      assistant(std::nullopt, true),  // 8: tool call, no reasoning: ""
      tool_message("c", "r"),
      assistant(std::nullopt, false, "answer"),  // 10: no calls, no reasoning: nothing
  };
  Json on = request_messages(history, true);
  CHECK_FALSE(on[2].contains("reasoning_content"));
  CHECK_FALSE(on[4].contains("reasoning_content"));
  CHECK(on[6]["reasoning_content"] == "new thought");
  CHECK(on[8]["reasoning_content"] == "");
  CHECK_FALSE(on[10].contains("reasoning_content"));
  CHECK(on[1]["content"] == "first");
  Json off = request_messages(history, false);
  for (const Json& m : off) CHECK_FALSE(m.contains("reasoning_content"));

  give_every_assistant_reasoning(on);
  CHECK(on[2]["reasoning_content"] == "");
  CHECK(on[6]["reasoning_content"] == "new thought");
  CHECK(on[10]["reasoning_content"] == "");
  CHECK_FALSE(on[1].contains("reasoning_content"));
}
