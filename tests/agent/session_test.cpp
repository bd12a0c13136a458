#include "agent/session.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

using namespace dsv4::agent;
using Json = nlohmann::json;

namespace {

Message assistant_with_call(std::string reasoning) {
  Message m;
  m.role = Role::assistant;
  m.reasoning_content = std::move(reasoning);
  m.tool_calls.push_back({"call_1", "read_file", R"({"path": "a b\nc.txt"})"});
  return m;
}

}  // namespace

TEST_CASE("messages round-trip through JSON with every field", "[agent][messages]") {
  Message a = assistant_with_call("think\n\"hard\" — ünïcode 🤔");
  Message back = message_from_json(message_to_json(a));
  CHECK(back.role == Role::assistant);
  CHECK(back.reasoning_content == a.reasoning_content);
  REQUIRE(back.tool_calls.size() == 1);
  CHECK(back.tool_calls[0].id == "call_1");
  CHECK(back.tool_calls[0].name == "read_file");
  CHECK(back.tool_calls[0].arguments == a.tool_calls[0].arguments);
  Message t = message_from_json(message_to_json(tool_message("call_1", "{\"ok\":true}")));
  CHECK(t.role == Role::tool);
  CHECK(t.tool_call_id == "call_1");
  // An assistant turn without reasoning stays without it (not an empty string).
  Message plain;
  plain.role = Role::assistant;
  plain.content = "hi";
  CHECK_FALSE(message_to_json(plain).contains("reasoning_content"));
  CHECK_FALSE(message_from_json(message_to_json(plain)).reasoning_content.has_value());
}

TEST_CASE("message_from_json names the bad field", "[agent][messages]") {
  CHECK_THROWS_WITH(message_from_json(Json{{"role", "wizard"}}),
                    Catch::Contains("unknown role 'wizard'"));
  CHECK_THROWS_WITH(message_from_json(Json{{"role", "user"}, {"content", 5}}),
                    Catch::Contains("content"));
  CHECK_THROWS(message_from_json(Json::array()));
}

TEST_CASE("a session file replays messages and reasoning byte for byte", "[agent][session]") {
  dsv4::test::TempDir dir;
  auto path = dir / "s.jsonl";
  const std::string reasoning =
      std::string("line1\nline2\r\n\ttab \\ back \xE2\x80\x94 ") + "\x7f end";
  {
    SessionWriter w(path);
    w.append_message(system_message("sys"));
    w.append_message(user_message("task"));
    w.append({{"type", "usage"}, {"input", 10}});
    w.append_message(assistant_with_call(reasoning));
    w.append_message(tool_message("call_1", "result"));
  }
  {
    SessionWriter again(path);  // appends, never truncates
    again.append_message(user_message("more"));
  }
  LoadedSession s = load_session(path);
  CHECK_FALSE(s.torn_tail);
  REQUIRE(s.messages.size() == 5);
  CHECK(s.events.size() == 6);
  CHECK(s.messages[2].reasoning_content.value() == reasoning);
  CHECK(s.messages[4].content == "more");
  // Every line is one complete JSON object.
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    CHECK_FALSE(Json::parse(line, nullptr, false).is_discarded());
  }
  CHECK(lines == 6);
}

TEST_CASE("a torn last line is skipped, a broken middle line is an error", "[agent][session]") {
  dsv4::test::TempDir dir;
  std::string good = R"({"type":"message","message":{"role":"user","content":"x"}})";
  dir.write("torn.jsonl", good + "\n" + R"({"type":"message","mess)");
  LoadedSession s = load_session(dir / "torn.jsonl");
  CHECK(s.torn_tail);
  CHECK(s.messages.size() == 1);
  dir.write("bad.jsonl", good + "\nnot json\n" + good + "\n");
  CHECK_THROWS_WITH(load_session(dir / "bad.jsonl"), Catch::Contains("bad.jsonl:2"));
  CHECK_THROWS_WITH(load_session(dir / "missing.jsonl"), Catch::Contains("missing.jsonl"));
  CHECK_THROWS_WITH(SessionWriter(dir / "no/such/dir/s.jsonl"),
                    Catch::Contains("cannot open session file"));
}
