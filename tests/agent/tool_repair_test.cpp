#include "agent/tool_repair.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace dsv4::agent;
using Json = nlohmann::json;

namespace {

struct RepairCase {
  const char* input;
  const char* expected;  // the object it must become; nullptr: it must be refused
  const char* error_part = "";
};

// Broken arguments as models send them: each either has one sensible reading or none.
const RepairCase kCases[] = {
    {R"({"path": "a.txt"})", R"({"path": "a.txt"})"},
    {"", "{}"},
    {"   \n", "{}"},
    {R"({"path": "a.txt",})", R"({"path": "a.txt"})"},
    {R"({"paths": ["a", "b",], })", R"({"paths": ["a", "b"]})"},
    {R"({'path': 'a.txt'})", R"({"path": "a.txt"})"},
    {R"({'text': 'say "hi"'})", R"({"text": "say \"hi\""})"},
    {R"({'text': 'it\'s'})", R"({"text": "it's"})"},
    {"{\"content\": \"line1\nline2\"}", R"({"content": "line1\nline2"})"},
    {"{\"content\": \"a\tb\r\"}", R"({"content": "a\tb\r"})"},
    {"{\"path\": \"a\" // the file\n}", R"({"path": "a"})"},
    {"{/* why */ \"path\": \"a\"}", R"({"path": "a"})"},
    {R"({"url": "http://x/y"})", R"({"url": "http://x/y"})"},  // "//" inside a string stays
    {R"("{\"path\": \"a.txt\"}")", R"({"path": "a.txt"})"},    // encoded twice
    {R"({"a": {"b": [1, 2,],},})", R"({"a": {"b": [1, 2]}})"},
    {R"({"s": "comma, } inside"})", R"({"s": "comma, } inside"})"},
    {R"({"s": "ünïcode — 🤔"})", R"({"s": "ünïcode — 🤔"})"},
    {R"({"path": "a.txt")", nullptr, "end before the JSON is complete"},
    {R"({"path": "a.t)", nullptr, "end before the JSON is complete"},
    {R"({"content": "x", "path": )", nullptr, "not valid JSON"},
    {R"({'text': 'don't'})", nullptr, "not valid JSON"},
    {R"(["a.txt"])", nullptr, "must be a JSON object, not array"},
    {R"("just text")", nullptr, "must be a JSON object, not string"},
    {"42", nullptr, "must be a JSON object, not number"},
    {R"({path: "a.txt"})", nullptr, "not valid JSON"},
    {"{\"a\": 1} {\"b\": 2}", nullptr, "not valid JSON"},
    {R"({"a": 1 /* open comment)", nullptr, "not valid JSON"},
    {"{\"a\": tru}", nullptr, "not valid JSON"},
    {R"({"command": "ls -la",})", R"({"command": "ls -la"})"},
    {R"({'path': "mixed"})", R"({"path": "mixed"})"},
    {"{\"content\": \"def f():\n    return 1\n\"}", R"({"content": "def f():\n    return 1\n"})"},
    {"{\"old_string\": \"if (a) {\n  b();\n}\", \"new_string\": \"x\"}",
     R"({"old_string": "if (a) {\n  b();\n}", "new_string": "x"})"},
    {"// read it\n{\"a\": 1}", R"({"a": 1})"},
    {R"({"a": 'b' /* c */,})", R"({"a": "b"})"},
    {"{\"a\": 1}\n", R"({"a": 1})"},
    {"```json\n{\"path\": \"a.txt\"}\n```", R"({"path": "a.txt"})"},
    {"```\n{\"path\": \"a.txt\",}\n```\n", R"({"path": "a.txt"})"},
    {R"({"s": "tab\there"})", R"({"s": "tab\there"})"},
    {R"({"a": NaN})", nullptr, "not valid JSON"},
    {R"({"a": undefined})", nullptr, "not valid JSON"},
    {R"({"a": True})", nullptr, "not valid JSON"},
    {R"({"a": 01})", nullptr, "not valid JSON"},
    {R"({"a": 1}})", nullptr, "not valid JSON"},
    {"null", nullptr, "must be a JSON object, not null"},
    {R"({"a": "b")", nullptr, "end before the JSON is complete"},
    {"```json\n{\"path\": ", nullptr, "not valid JSON"},
};

}  // namespace

TEST_CASE("broken JSON arguments are repaired only when unambiguous", "[agent][repair]") {
  for (const RepairCase& c : kCases) {
    INFO("input: " << c.input);
    RepairedJson r = repair_json_object(c.input);
    if (c.expected) {
      CHECK(r.error.empty());
      CHECK(Json::parse(r.json) == Json::parse(c.expected));
      if (Json::parse(c.input, nullptr, false).is_discarded() ||
          std::string(c.input).find_first_not_of(" \n") == std::string::npos)
        CHECK_FALSE(r.repairs.empty());  // a repaired call says what was fixed
    } else {
      CHECK(r.json.empty());
      CHECK_THAT(r.error, Catch::Contains(c.error_part));
    }
  }
}

TEST_CASE("prepare_call resolves tools and validates against the schema", "[agent][repair]") {
  PreparedCall ok = prepare_call({"c1", "read_file", R"({'path': 'x.txt',})"});
  CHECK(ok.error.empty());
  CHECK(Json::parse(ok.arguments) == Json{{"path", "x.txt"}});
  CHECK(ok.repairs.size() == 2);

  PreparedCall unknown = prepare_call({"c2", "read_fil", "{}"});
  CHECK_THAT(unknown.error, Catch::Contains("unknown tool 'read_fil'") &&
                                Catch::Contains("read_file") && Catch::Contains("shell"));
  PreparedCall wrong_type = prepare_call({"c3", "read_file", R"({"path": 5})"});
  CHECK_THAT(wrong_type.error, Catch::Contains("'path'") && Catch::Contains("schema"));
  PreparedCall extra = prepare_call({"c4", "read_file", R"({"path": "a", "colour": 1})"});
  CHECK_THAT(extra.error, Catch::Contains("colour"));
  PreparedCall missing = prepare_call({"c5", "edit_file", R"({"path": "a"})"});
  CHECK_THAT(missing.error, Catch::Contains("old_string"));
  PreparedCall cut = prepare_call({"c6", "read_file", R"({"path": "a)"});
  CHECK_THAT(cut.error, Catch::Contains("read_file") && Catch::Contains("\"required\":[\"path\"]"));
}

TEST_CASE("DSML tool calls leaked into content are recovered", "[agent][repair][dsml]") {
  Message m;
  m.role = Role::assistant;
  m.content =
      "I will read it.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"read_file\">\n"
      "<｜DSML｜parameter name=\"path\" string=\"true\">src/a b.txt</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"limit\" string=\"false\">20</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  auto calls = recover_leaked_calls(m);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].error.empty());
  CHECK(calls[0].call.id == "dsml_1");
  CHECK(calls[0].call.name == "read_file");
  CHECK(Json::parse(calls[0].call.arguments) == Json{{"path", "src/a b.txt"}, {"limit", 20}});
  CHECK(m.content.find("DSML") == std::string::npos);
  CHECK_THAT(m.content, Catch::Contains("I will read it."));
}

TEST_CASE("DSML with ASCII bars and a cut-off call", "[agent][repair][dsml]") {
  Message m;
  m.role = Role::assistant;
  m.content =
      "<|DSML|tool_calls>\n<|DSML|invoke name=\"list_files\">\n"
      "<|DSML|parameter name=\"path\" string=\"true\">.</|DSML|parameter>\n</|DSML|invoke>\n"
      "<|DSML|invoke name=\"read_file\">\n<|DSML|parameter name=\"path\" string=\"true\">a.t";
  auto calls = recover_leaked_calls(m);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].error.empty());
  CHECK(Json::parse(calls[0].call.arguments) == Json{{"path", "."}});
  CHECK_FALSE(calls[1].error.empty());  // cut off: never run
  CHECK(m.content.find("DSML") == std::string::npos);
}

TEST_CASE("content without DSML markup is left alone", "[agent][repair][dsml]") {
  Message m;
  m.role = Role::assistant;
  m.content = "The DSML format uses <invoke> tags; nothing to run here.";
  CHECK(recover_leaked_calls(m).empty());
  CHECK(m.content == "The DSML format uses <invoke> tags; nothing to run here.");
}

TEST_CASE("<tool_call> blocks and bare call objects in the content are recovered",
          "[agent][repair][leak]") {
  Message m;
  m.role = Role::assistant;
  m.content =
      "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": "
      "\"a.txt\"}}\n</tool_call>\n"
      "<tool_call>{\"name\": \"list_files\", \"arguments\": \"{\\\"path\\\": "
      "\\\".\\\"}\"}</tool_call>";
  auto calls = recover_leaked_calls(m);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].call.id == "text_1");
  CHECK(calls[0].call.name == "read_file");
  CHECK(Json::parse(calls[0].call.arguments) == Json{{"path", "a.txt"}});
  CHECK(calls[1].call.name == "list_files");
  CHECK(Json::parse(calls[1].call.arguments) == Json{{"path", "."}});
  CHECK(m.content == "Let me look.\n\n");

  Message fenced;
  fenced.role = Role::assistant;
  fenced.content =
      "```json\n{\"name\": \"search_text\", \"arguments\": {\"pattern\": \"main\"}}\n```";
  auto f = recover_leaked_calls(fenced);
  REQUIRE(f.size() == 1);
  CHECK(f[0].call.name == "search_text");
  CHECK(fenced.content.empty());

  Message cut;
  cut.role = Role::assistant;
  cut.content = "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a";
  CHECK(recover_leaked_calls(cut).empty());  // not a whole object: left as text
}

TEST_CASE("text that only looks like a call stays text", "[agent][repair][leak]") {
  for (const char* text : {
           R"({"name": "Alice", "arguments": []})",                         // no such tool
           R"({"name": "read_file", "arguments": {}, "note": "example"})",  // more than a call
           "To read a file, send {\"name\": \"read_file\", \"arguments\": {\"path\": \"x\"}}.",
           "The <tool_call> tag is what Hermes uses.",
       }) {
    Message m;
    m.role = Role::assistant;
    m.content = text;
    CHECK(recover_leaked_calls(m).empty());
    CHECK(m.content == text);
  }
}

TEST_CASE("DSML in the reasoning counts only when the turn has no other call",
          "[agent][repair][dsml]") {
  const std::string dsml =
      "I need the file.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"read_file\">\n"
      "<｜DSML｜parameter name=\"path\" string=\"true\">a.txt</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  Message m;
  m.role = Role::assistant;
  m.reasoning_content = dsml;
  auto calls = recover_leaked_calls(m);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].call.name == "read_file");
  CHECK(m.reasoning_content->find("DSML") == std::string::npos);

  Message with_call;
  with_call.role = Role::assistant;
  with_call.reasoning_content = dsml;
  with_call.tool_calls = {{"c", "read_file", R"({"path":"a.txt"})"}};
  CHECK(recover_leaked_calls(with_call).empty());
  CHECK(with_call.reasoning_content == dsml);
}

namespace {

struct DsmlCase {
  const char* name;
  std::string content;
  std::vector<std::pair<std::string, Json>> calls;  // name and arguments; null: must carry an error
};

std::string invoke(const std::string& bar, const std::string& tool, const std::string& params) {
  return "<" + bar + "DSML" + bar + "invoke name=\"" + tool + "\">\n" + params + "</" + bar +
         "DSML" + bar + "invoke>\n";
}
std::string param(const std::string& bar, const std::string& name, const std::string& value,
                  bool is_string = true) {
  return "<" + bar + "DSML" + bar + "parameter name=\"" + name + "\" string=\"" +
         (is_string ? "true" : "false") + "\">" + value + "</" + bar + "DSML" + bar +
         "parameter>\n";
}
std::string block(const std::string& bar, const std::string& invokes) {
  return "<" + bar + "DSML" + bar + "tool_calls>\n" + invokes + "</" + bar + "DSML" + bar +
         "tool_calls>";
}

}  // namespace

TEST_CASE("a corpus of DSML calls leaked into content", "[agent][repair][dsml]") {
  const std::string fw = "｜", ascii = "|";
  const std::string code = "if (a < b && c > d) {\n  return \"<x>\";\n}\n";
  const std::vector<DsmlCase> cases = {
      {"two calls", "Reading both.\n\n" + block(fw, invoke(fw, "read_file", param(fw, "path", "a.txt")) +
                                                     invoke(fw, "read_file", param(fw, "path", "b.txt"))),
       {{"read_file", {{"path", "a.txt"}}}, {"read_file", {{"path", "b.txt"}}}}},
      {"ascii bars", block(ascii, invoke(ascii, "list_files", param(ascii, "path", "src"))),
       {{"list_files", {{"path", "src"}}}}},
      {"no blank line before the block", "Looking." + block(fw, invoke(fw, "list_files", param(fw, "path", "."))),
       {{"list_files", {{"path", "."}}}}},
      {"invoke without the tool_calls wrapper", "\n\n" + invoke(fw, "read_file", param(fw, "path", "x.md")),
       {{"read_file", {{"path", "x.md"}}}}},
      {"code with markup characters in a value",
       block(fw, invoke(fw, "edit_file", param(fw, "path", "m.c") + param(fw, "old_string", code) +
                                             param(fw, "new_string", "return 0;\n"))),
       {{"edit_file", {{"path", "m.c"}, {"old_string", code}, {"new_string", "return 0;\n"}}}}},
      {"non-string values", block(fw, invoke(fw, "read_file", param(fw, "path", "a") + param(fw, "offset", "3", false) +
                                                                 param(fw, "limit", "10", false))),
       {{"read_file", {{"path", "a"}, {"offset", 3}, {"limit", 10}}}}},
      {"text after the block", block(fw, invoke(fw, "git_status", "")) + "\nThen I will decide.",
       {{"git_status", Json::object()}}},
      {"cut inside a parameter", "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"read_file\">\n<｜DSML｜parameter name=\"path\" string=\"true\">src/ma",
       {{"read_file", nullptr}}},
      {"cut after the invoke tag", "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"shell\">\n", {{"shell", nullptr}}},
      {"second call cut", [&] {
         std::string whole = "\n\n" + block(fw, invoke(fw, "list_files", param(fw, "path", ".")) +
                                                   invoke(fw, "read_file", param(fw, "path", "b.txt")));
         return whole.substr(0, whole.find("b.txt") + 2);
       }(),
       {{"list_files", {{"path", "."}}}, {"read_file", nullptr}}},
  };
  for (const DsmlCase& c : cases) {
    INFO(c.name);
    Message m;
    m.role = Role::assistant;
    m.content = c.content;
    auto calls = recover_leaked_calls(m);
    REQUIRE(calls.size() == c.calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
      CHECK(calls[i].call.name == c.calls[i].first);
      if (c.calls[i].second.is_null()) {
        CHECK_FALSE(calls[i].error.empty());
      } else {
        CHECK(calls[i].error.empty());
        CHECK(Json::parse(calls[i].call.arguments) == c.calls[i].second);
      }
    }
    CHECK(m.content.find("DSML") == std::string::npos);
  }
}
