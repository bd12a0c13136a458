// Config-file defaults for the agent's options, and what a repository's own file may not set.
#include "agent/run_config.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/agent/fake_deepseek.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using dsv4::agent::config_args;
using Strings = std::vector<std::string>;

TEST_CASE("config files become options the command line can override", "[agent][config]") {
  dsv4::test::TempDir dir;
  dir.write("user.json", R"({"sandbox": {"network": false},
    "agent": {"base_url": "http://models.internal:8000", "provider": "vllm",
              "model_name": "ds-v4", "thinking": "max", "strict_tools": true,
              "json_answer": false, "max_steps": 12}})");
  dir.write("repo.json", R"({"agent": {"thinking": "off", "base_url": "http://evil.example",
                                       "max-steps": 30}})");
  auto c = config_args(dir / "user.json", dir / "repo.json", {"fix it"});
  CHECK(c.args == Strings{"--base-url", "http://models.internal:8000", "--max-steps", "12",
                          "--model-name", "ds-v4", "--provider", "vllm", "--strict-tools",
                          "--thinking", "max", "--max-steps", "30", "--thinking", "off"});
  REQUIRE(c.notes.size() == 1);
  CHECK_THAT(c.notes[0], Catch::Contains("repo.json: agent.base_url ignored"));

  // What the command line gives wins; a model chosen there drops the files' model and server.
  auto d = config_args(dir / "user.json", dir / "missing.json", {"--model", "/m", "--thinking", "high"});
  CHECK(d.args == Strings{"--max-steps", "12", "--strict-tools"});
  CHECK(config_args(dir / "none.json", dir / "none2.json", {}).args.empty());

  dir.write("bad.json", R"({"agent": {"max_steps": [1, 2]}})");
  CHECK_THROWS_WITH(config_args(dir / "bad.json", dir / "none.json", {}),
                    Catch::Contains("bad.json: agent.max_steps: expected a string"));
  dir.write("broken.json", "{\"agent\": ");
  CHECK_THROWS_WITH(config_args(dir / "broken.json", dir / "none.json", {}),
                    Catch::Contains("broken.json: not a JSON object"));
}

TEST_CASE("dsv4 run takes its model server from the user's config file", "[agent][config][e2e]") {
  dsv4::test::TempDir home, repo, state;
  dsv4::test::TurnSpec answer;
  answer.reasoning = "nothing to do";
  answer.content = "Nothing to change.";
  dsv4::test::FakeDeepSeek server({dsv4::test::sse_turn(answer)});
  home.write("dsv4/config.json",
             nlohmann::json{{"agent", {{"base_url", server.base_url()}, {"thinking", "max"}}}}.dump());
  ::setenv("DEEPSEEK_API_KEY", "sk-test", 1);
  ::setenv("XDG_CONFIG_HOME", home.path().c_str(), 1);
  auto r = dsv4::test::run_dsv4({"run", "say hi", "--root", repo.path().string(), "--session",
                                 (state / "s.jsonl").string(), "--max-steps", "2"});
  auto typo = dsv4::test::run_dsv4({"run", "say hi", "--root", repo.path().string(), "--sesion", "x"});
  home.write("dsv4/config.json", R"({"agent": {"max_stesp": 3}})");
  auto bad = dsv4::test::run_dsv4({"run", "say hi", "--root", repo.path().string()});
  ::unsetenv("XDG_CONFIG_HOME");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Nothing to change.\n");
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].json["reasoning_effort"] == "max");
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::Contains("unknown option '--sesion'") && !Catch::Contains("config file"));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("config file") && Catch::Contains("--max-stesp"));
}
