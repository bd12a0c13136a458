// `dsv4 encode` and `dsv4 parse` through the real binary.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/engine/jsonl.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using dsv4::test::run_dsv4;
using dsv4::test::TempDir;
using Json = nlohmann::ordered_json;

namespace {

Json golden(const std::string& file, const std::string& id) {
  for (const auto& line : dsv4::test::read_jsonl(dsv4::test::kGoldenEncoding + file)) {
    Json c = Json::parse(line);
    if (c["id"] == id) return c;
  }
  throw std::runtime_error("no golden case " + id);
}

}  // namespace

TEST_CASE("dsv4 encode --request prints a golden prompt exactly, with no newline added") {
  TempDir dir;
  for (const char* id : {"enc_agent_three_rounds_thinking_effort_high", "enc_args_control_chars",
                         "enc_user_content_parts_image_thinking", "enc_empty_messages"}) {
    INFO(id);
    Json c = golden("encode_cases.jsonl", id);
    dir.write("req.json", c["input"].dump());
    auto r = run_dsv4({"encode", "--request", (dir / "req.json").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == c["expected"].get<std::string>());
    // A whole golden line is accepted too.
    dir.write("case.json", c.dump());
    CHECK(run_dsv4({"encode", "--request", (dir / "case.json").string()}).out == r.out);
  }
}

TEST_CASE("dsv4 encode --messages takes the conversation and the settings as options") {
  TempDir dir;
  Json c = golden("encode_cases.jsonl", "enc_agent_three_rounds_thinking_max_drop_false");
  REQUIRE(c["input"]["thinking_mode"] == "thinking");
  REQUIRE(c["input"]["reasoning_effort"] == "max");
  REQUIRE(c["input"]["drop_thinking"] == false);
  dir.write("m.json", c["input"]["messages"].dump());
  auto r = run_dsv4({"encode", "--messages", (dir / "m.json").string(), "--thinking", "thinking", "--effort", "max",
                     "--keep-reasoning"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == c["expected"].get<std::string>());

  Json ctx = golden("encode_cases.jsonl", "enc_context_continuation_chat");
  dir.write("m2.json", ctx["input"]["messages"].dump());
  dir.write("c2.json", ctx["input"]["context"].dump());
  auto r2 = run_dsv4({"encode", "--messages", (dir / "m2.json").string(), "--context", (dir / "c2.json").string(),
                      "--thinking", "chat"});
  CHECK(r2.exit_code == 0);
  CHECK(r2.out == ctx["expected"].get<std::string>());
}

TEST_CASE("dsv4 encode fails with exit 1 on content the format cannot express, exit 2 on bad usage") {
  TempDir dir;
  Json c = golden("encode_cases.jsonl", "enc_err_invalid_task_on_assistant");
  dir.write("req.json", c["input"].dump());
  auto r = run_dsv4({"encode", "--request", (dir / "req.json").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("invalid task 'tags'"));

  CHECK(run_dsv4({"encode"}).exit_code == 2);
  auto mode = run_dsv4({"encode", "--messages", "x.json", "--thinking", "turbo"});
  CHECK(mode.exit_code == 2);
  CHECK_THAT(mode.err, Catch::Contains("invalid thinking mode 'turbo'"));
  auto missing = run_dsv4({"encode", "--messages", (dir / "nope.json").string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("cannot read"));
  auto help = run_dsv4({"encode", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("usage: dsv4 encode"));
}

TEST_CASE("dsv4 parse --input prints the golden message; errors go to stderr with exit 1") {
  TempDir dir;
  for (const char* id : {"parse_roundtrip_unicode_args", "parse_invalid_json_string_false_passthrough",
                         "parse_thinking_content_and_tool_call"}) {
    INFO(id);
    Json c = golden("parse_cases.jsonl", id);
    dir.write("in.json", c["input"].dump());
    auto r = run_dsv4({"parse", "--input", (dir / "in.json").string()});
    CHECK(r.exit_code == 0);
    CHECK(Json::parse(r.out) == c["expected"]);
    auto chunked = run_dsv4({"parse", "--input", (dir / "in.json").string(), "--chunk", "1"});
    CHECK(chunked.out == r.out);
  }
  for (const char* id : {"parse_err_thinking_tool_call_before_end", "parse_err_bad_string_flag"}) {
    INFO(id);
    Json c = golden("parse_cases.jsonl", id);
    dir.write("in.json", c["input"].dump());
    auto r = run_dsv4({"parse", "--input", (dir / "in.json").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("dsv4 parse: "));
    CHECK_THAT(r.err, Catch::Contains(c["expected_error"]["type"] == "AssertionError" ? "format error" : "structure error"));
  }
}

TEST_CASE("dsv4 parse --tolerant recovers what the reference rejects and reports why") {
  TempDir dir;
  Json c = golden("parse_cases.jsonl", "parse_err_thinking_tool_call_before_end");
  dir.write("in.json", c["input"].dump());
  auto r = run_dsv4({"parse", "--input", (dir / "in.json").string(), "--tolerant"});
  CHECK(r.exit_code == 0);
  Json m = Json::parse(r.out);
  CHECK(m["reasoning_content"] == "reasoning");
  REQUIRE(m["tool_calls"].size() == 1);
  CHECK(m["tool_calls"][0]["function"]["name"] == "get_weather");
  CHECK(Json::parse(m["tool_calls"][0]["function"]["arguments"].get<std::string>()) ==
        Json::parse(R"({"city": "Paris", "unit": "celsius"})"));
  CHECK_THAT(m["issues"].dump(), Catch::Contains("inside the reasoning"));

  auto events = run_dsv4({"parse", "--input", (dir / "in.json").string(), "--tolerant", "--events", "--chunk", "3"});
  CHECK(events.exit_code == 0);
  CHECK_THAT(events.out, Catch::Contains(R"({"event":"call_begin","name":"get_weather"})"));
  CHECK_THAT(events.out, Catch::Contains(R"({"event":"parameter","name":"city","value":"Paris","string":true})"));
  CHECK_THAT(events.out, Catch::Contains(R"({"event":"call_end"})"));

  CHECK(run_dsv4({"parse"}).exit_code == 2);
  CHECK(run_dsv4({"parse", "--input", "x", "--chunk", "0"}).exit_code == 2);
  dir.write("bad.json", "[1, 2]");
  auto bad = run_dsv4({"parse", "--input", (dir / "bad.json").string()});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("does not hold a JSON object"));
}

TEST_CASE("dsv4 bench parse runs the streaming parser against its single-shot peer") {
  auto r = run_dsv4({"bench", "parse", "--mb", "1"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("single-shot") && Catch::Contains("1-byte chunks") &&
                        Catch::Contains("ratio to single-shot"));
  CHECK(run_dsv4({"bench", "parse", "--mb", "zero"}).exit_code == 2);
  CHECK(run_dsv4({"bench", "nothing"}).exit_code == 2);
}
