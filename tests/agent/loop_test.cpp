#include "agent/loop.hpp"

#include <catch2/catch.hpp>
#include <deque>
#include <nlohmann/json.hpp>
#include <thread>

#include "sandbox/workspace.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dsv4::agent;
using Json = nlohmann::json;

namespace {

// A model that answers from a script and keeps every request it was given.
class ScriptedModel : public ModelClient {
 public:
  explicit ScriptedModel(std::vector<Message> turns) : turns_(turns.begin(), turns.end()) {}
  ChatResponse complete(const ChatRequest& request, const EventSink&) override {
    requests.push_back(request);
    if (turns_.empty()) throw ModelError(ModelError::Kind::protocol, 0, "script exhausted");
    ChatResponse r;
    r.message = turns_.front();
    turns_.pop_front();
    r.usage = {100, 80, 20, 10};
    r.finish_reason = r.message.tool_calls.empty() ? "stop" : "tool_calls";
    return r;
  }
  std::vector<ChatRequest> requests;

 private:
  std::deque<Message> turns_;
};

Message calls(std::vector<ToolCall> c) {
  Message m;
  m.role = Role::assistant;
  m.reasoning_content = "plan";
  m.tool_calls = std::move(c);
  return m;
}

Message answer(std::string text) {
  Message m;
  m.role = Role::assistant;
  m.content = std::move(text);
  return m;
}

struct Fixture {
  dsv4::test::TempDir dir;
  Fixture() {
    dir.write("a.txt", "alpha\n");
    dir.write("b.txt", "beta\n");
  }
  LoopResult run(ScriptedModel& model, LoopOptions options, std::vector<Message>& history) {
    dsv4::sandbox::Workspace workspace(dir.path());
    AgentLoop loop(model, workspace, options, nullptr, {});
    history = {system_message(system_prompt()), user_message("task")};
    return loop.run(history);
  }
  // The JSON result of the tool message answering `id`.
  static Json result_of(const std::vector<Message>& history, const std::string& id) {
    for (const Message& m : history)
      if (m.role == Role::tool && m.tool_call_id == id) return Json::parse(m.content);
    return nullptr;
  }
};

}  // namespace

TEST_CASE("the loop runs calls, keeps call order and ends with the answer", "[agent][loop]") {
  Fixture f;
  ScriptedModel model({calls({{"1", "read_file", R"({"path":"b.txt"})"},
                              {"2", "read_file", R"({"path":"a.txt"})"},
                              {"3", "list_files", "{}"}}),
                       answer("done")});
  std::vector<Message> history;
  LoopResult r = f.run(model, {}, history);
  CHECK(r.status == RunStatus::done);
  CHECK(r.answer == "done");
  CHECK(r.steps == 2);
  CHECK(r.tool_calls == 3);
  CHECK(r.usage.input == 200);
  CHECK(r.usage.cache_hit == 160);
  REQUIRE(history.size() == 2 + 1 + 3 + 1);
  CHECK(history[3].tool_call_id == "1");
  CHECK(history[4].tool_call_id == "2");
  CHECK(history[5].tool_call_id == "3");
  CHECK_THAT(history[3].content, Catch::Contains("beta"));
  CHECK_THAT(history[4].content, Catch::Contains("alpha"));
  // The second request carries the first turn and its results, reasoning included.
  REQUIRE(model.requests.size() == 2);
  CHECK(model.requests[1].messages.size() == 6);
  CHECK(model.requests[1].messages[2].reasoning_content == "plan");
  CHECK(model.requests[0].tools_json == tools_json());
}

TEST_CASE("approval modes decide which calls run", "[agent][loop][approval]") {
  Fixture f;
  auto write = ToolCall{"w", "write_file", R"({"path":"a.txt","content":"changed\n"})"};
  auto shell = ToolCall{"s", "shell", R"({"command":"echo hi > c.txt"})"};
  for (Approval mode :
       {Approval::read_only, Approval::ask, Approval::auto_edit, Approval::full_auto}) {
    INFO(approval_name(mode));
    f.dir.write("a.txt", "alpha\n");
    std::filesystem::remove(f.dir / "c.txt");
    ScriptedModel model({calls({write, shell}), answer("ok")});
    std::vector<Message> history;
    LoopOptions options;
    options.approval = mode;
    REQUIRE(f.run(model, options, history).status == RunStatus::done);
    Json w = Fixture::result_of(history, "w"), s = Fixture::result_of(history, "s");
    bool edits = mode == Approval::auto_edit || mode == Approval::full_auto;
    CHECK(w["ok"] == edits);
    CHECK(f.dir.read("a.txt") == (edits ? "changed\n" : "alpha\n"));
    INFO(s.dump());
    CHECK(s["ok"] == (mode == Approval::full_auto));
    if (mode != Approval::full_auto)
      CHECK_THAT(s["error"].get<std::string>(), Catch::Contains("not run: approval mode"));
  }
}

TEST_CASE("ask mode asks, and obeys the answer", "[agent][loop][approval]") {
  Fixture f;
  std::vector<std::string> asked;
  LoopOptions options;
  options.approval = Approval::ask;
  options.ask = [&](const ToolCall& c) {
    asked.push_back(c.name);
    return c.name == "write_file";
  };
  ScriptedModel model(
      {calls({{"w", "write_file", R"({"path":"n.txt","content":"x"})"},
              {"r", "read_file", R"({"path":"a.txt"})"},
              {"d", "edit_file", R"({"path":"a.txt","old_string":"alpha","new_string":"x"})"}}),
       answer("ok")});
  std::vector<Message> history;
  f.run(model, options, history);
  CHECK(asked == std::vector<std::string>{"write_file", "edit_file"});  // never for read-only tools
  CHECK(f.dir.read("n.txt") == "x");
  CHECK(f.dir.read("a.txt") == "alpha\n");
  CHECK_THAT(Fixture::result_of(history, "d")["error"].get<std::string>(),
             Catch::Contains("declined"));
}

TEST_CASE("broken calls get precise errors and the loop goes on", "[agent][loop][repair]") {
  Fixture f;
  ScriptedModel model({calls({{"u", "reed_file", "{}"},
                              {"j", "read_file", R"({"path": "a.txt)"},
                              {"r", "read_file", R"({'path': 'a.txt',})"}}),
                       answer("ok")});
  std::vector<Message> history;
  CHECK(f.run(model, {}, history).status == RunStatus::done);
  CHECK_THAT(Fixture::result_of(history, "u")["error"].get<std::string>(),
             Catch::Contains("valid tools:"));
  CHECK_THAT(Fixture::result_of(history, "j")["error"].get<std::string>(),
             Catch::Contains("not valid JSON"));
  Json repaired = Fixture::result_of(history, "r");
  CHECK(repaired["ok"] == true);
  CHECK(repaired["arguments_repaired"].size() == 2);
}

TEST_CASE("DSML calls leaked into content run and never reach the answer", "[agent][loop][dsml]") {
  Fixture f;
  Message leaked;
  leaked.role = Role::assistant;
  leaked.content =
      "Reading.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"read_file\">\n"
      "<｜DSML｜parameter name=\"path\" string=\"true\">b.txt</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  ScriptedModel model({leaked, answer("beta it is")});
  std::vector<Message> history;
  LoopResult r = f.run(model, {}, history);
  CHECK(r.status == RunStatus::done);
  CHECK(r.tool_calls == 1);
  CHECK(history[2].content.find("DSML") == std::string::npos);
  REQUIRE(history[2].tool_calls.size() == 1);
  CHECK_THAT(Fixture::result_of(history, "dsml_1")["content"].dump(), Catch::Contains("beta"));
}

TEST_CASE("a call repeated in a row is refused, budgets and interrupts end the run",
          "[agent][loop]") {
  Fixture f;
  SECTION("loop breaker") {
    ToolCall same{"x", "read_file", R"({"path":"a.txt"})"};
    ScriptedModel model({calls({same}), calls({same}), calls({same}), answer("ok")});
    std::vector<Message> history;
    f.run(model, {}, history);
    int refused = 0;
    for (const Message& m : history)
      if (m.role == Role::tool && m.content.find("times in a row") != std::string::npos) ++refused;
    CHECK(refused == 1);
  }
  SECTION("step budget") {
    ScriptedModel model({calls({{"1", "list_files", "{}"}}),
                         calls({{"2", "read_file", R"({"path":"a.txt"})"}}), answer("late")});
    std::vector<Message> history;
    LoopOptions options;
    options.max_steps = 2;
    LoopResult r = f.run(model, options, history);
    CHECK(r.status == RunStatus::budget);
    CHECK(r.steps == 2);
    CHECK(model.requests.size() == 2);
  }
  SECTION("token budget") {
    ScriptedModel model({calls({{"1", "list_files", "{}"}}), answer("late")});
    std::vector<Message> history;
    LoopOptions options;
    options.max_total_tokens = 50;
    CHECK(f.run(model, options, history).status == RunStatus::budget);
  }
  SECTION("cost budget") {
    ScriptedModel model({calls({{"1", "list_files", "{}"}}), answer("late")});
    std::vector<Message> history;
    LoopOptions options;
    options.prices = {1000, 1000, 1000};  // USD per 1M tokens: 110 tokens cost 0.11
    options.max_cost_usd = 0.1;
    LoopResult r = f.run(model, options, history);
    CHECK(r.status == RunStatus::budget);
    CHECK_THAT(r.error, Catch::Contains("cost budget"));
    options.max_cost_usd = 0.5;
    ScriptedModel again({calls({{"1", "list_files", "{}"}}), answer("in time")});
    CHECK(f.run(again, options, history).status == RunStatus::done);
  }
  SECTION("wall-time budget") {
    std::vector<Message> history;
    LoopOptions options;
    options.max_wall = std::chrono::seconds{1};
    auto slow = [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1100));
      return true;
    };
    options.approval = Approval::ask;
    options.ask = [&](const ToolCall&) { return slow(); };
    ScriptedModel asking(
        {calls({{"w", "write_file", R"({"path":"n.txt","content":"x"})"}}), answer("late")});
    LoopResult r = f.run(asking, options, history);
    CHECK(r.status == RunStatus::budget);
    CHECK_THAT(r.error, Catch::Contains("time budget"));
    CHECK(asking.requests.size() == 1);
  }
  SECTION("interrupt") {
    std::atomic<bool> stop{true};
    ScriptedModel model({answer("never")});
    std::vector<Message> history;
    LoopOptions options;
    options.interrupt = &stop;
    CHECK(f.run(model, options, history).status == RunStatus::interrupted);
    CHECK(model.requests.empty());
  }
}

TEST_CASE("the prompt prefix is byte-stable and sorted", "[agent][loop][cache]") {
  Json tools = Json::parse(tools_json());
  REQUIRE(tools.size() >= 10);
  for (size_t i = 1; i < tools.size(); ++i)
    CHECK(tools[i - 1]["function"]["name"].get<std::string>() <
          tools[i]["function"]["name"].get<std::string>());
  CHECK(tools_json() == Json::parse(tools_json()).dump());  // canonical: sorted keys, no spaces
  CHECK_THAT(system_prompt(), Catch::Contains("dsv4"));
}
