#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sandbox/workspace.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/registry.hpp"
#include "tools/schema.hpp"

using dsv4::tools::Json;

namespace {

constexpr std::string_view kEchoSchema = R"({
  "type": "object",
  "properties": {
    "text": {"type": "string", "minLength": 1},
    "times": {"type": "integer", "minimum": 1, "maximum": 100000},
    "mode": {"type": "string", "enum": ["plain", "fail", "throw"]},
    "tags": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["text"],
  "additionalProperties": false
})";

Json echo(const Json& args, dsv4::tools::ToolContext&) {
  auto mode = args.value("mode", "plain");
  if (mode == "fail") throw dsv4::tools::ToolError("echo was told to fail");
  if (mode == "throw") throw std::logic_error("internal slip");
  std::string out;
  for (int i = 0; i < args.value("times", 1); ++i) out += args["text"].get<std::string>();
  return Json{{"text", out}};
}

const dsv4::tools::Tool kEcho{"echo", kEchoSchema, {}, echo};

Json call(const Json& args) {
  dsv4::test::TempDir dir;
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::ToolContext ctx{ws};
  return dsv4::tools::call_tool(kEcho, args, ctx);
}

}  // namespace

TEST_CASE("arguments are validated before a tool runs, naming the field") {
  CHECK(call({{"text", "hi"}})["text"] == "hi");
  CHECK(call({{"text", "hi"}})["ok"] == true);

  auto missing = call(Json::object());
  CHECK(missing["ok"] == false);
  CHECK_THAT(missing["error"].get<std::string>(), Catch::Contains("missing required field 'text'"));

  auto unknown = call({{"text", "a"}, {"txt", "b"}});
  CHECK_THAT(unknown["error"].get<std::string>(), Catch::Contains("unknown field 'txt'"));
  CHECK_THAT(unknown["error"].get<std::string>(), Catch::Contains("known fields: mode, tags, text, times"));

  auto mistyped = call({{"text", "a"}, {"times", "3"}});
  CHECK_THAT(mistyped["error"].get<std::string>(), Catch::Contains("'times': expected integer, got string"));

  auto bad_item = call({{"text", "a"}, {"tags", {"x", 3}}});
  CHECK_THAT(bad_item["error"].get<std::string>(), Catch::Contains("'tags[1]': expected string, got integer"));

  auto bad_enum = call({{"text", "a"}, {"mode", "loud"}});
  CHECK_THAT(bad_enum["error"].get<std::string>(), Catch::Contains("'mode': must be one of"));

  auto too_small = call({{"text", "a"}, {"times", 0}});
  CHECK_THAT(too_small["error"].get<std::string>(), Catch::Contains("'times': must be at least 1"));

  CHECK(call({{"text", "ab"}, {"times", 2.0}})["text"] == "abab");
  CHECK(call(Json::array())["ok"] == false);
}

TEST_CASE("tool failures become ok:false results, never exceptions") {
  auto failed = call({{"text", "a"}, {"mode", "fail"}});
  CHECK(failed["ok"] == false);
  CHECK(failed["error"] == "echo was told to fail");
  auto thrown = call({{"text", "a"}, {"mode", "throw"}});
  CHECK(thrown["ok"] == false);
  CHECK_THAT(thrown["error"].get<std::string>(), Catch::Contains("internal slip"));
}

TEST_CASE("oversized results are cut with a note, valid UTF-8 kept") {
  auto big = call({{"text", "é"}, {"times", 100000}});
  CHECK(big["ok"] == true);
  CHECK(big["truncated"] == true);
  CHECK_THAT(big["note"].get<std::string>(), Catch::Contains("narrow the request"));
  auto dumped = big.dump();  // throws on invalid UTF-8
  CHECK(dumped.size() <= dsv4::tools::kMaxResultBytes + 1024);
  CHECK_THAT(big["text"].get<std::string>(), Catch::Contains("[... cut:"));
}

TEST_CASE("schema validation handles type unions and nested objects") {
  auto schema = Json::parse(R"({"type":"object","properties":{"n":{"type":["integer","null"]},
    "o":{"type":"object","properties":{"k":{"type":"boolean"}},"required":["k"]}}})");
  CHECK_FALSE(dsv4::tools::validate(schema, Json{{"n", nullptr}}));
  CHECK(dsv4::tools::validate(schema, Json{{"n", "x"}}).value() == "'n': expected integer or null, got string");
  CHECK(dsv4::tools::validate(schema, Json{{"o", Json::object()}}).value() == "missing required field 'o.k'");
}
