#include <catch2/catch.hpp>

#include "tests/support/run.hpp"

using dsv4::test::run_dsv4;

TEST_CASE("dsv4 answers --help and --version, and refuses unknown commands with exit 2") {
  auto help = run_dsv4({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("usage: dsv4 [PROMPT]") && Catch::Contains("dsv4 COMMAND [ARGS...]"));
  auto version = run_dsv4({"--version"});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("dsv4 "));
  auto unknown = run_dsv4({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'"));
  CHECK_THAT(unknown.err, Catch::Contains("dsv4 --help"));
}

TEST_CASE("dsv4 tool refuses bad usage with exit 2 and a hint") {
  auto no_tool = run_dsv4({"tool", "no_such_tool", "--args", "{}"});
  CHECK(no_tool.exit_code == 2);
  CHECK_THAT(no_tool.err, Catch::Contains("no tool named 'no_such_tool'"));
  auto missing_value = run_dsv4({"tool", "x", "--args"});
  CHECK(missing_value.exit_code == 2);
  CHECK_THAT(missing_value.err, Catch::Contains("--args needs a value"));
  auto bad_root = run_dsv4({"tool", "--list", "--root"});
  CHECK(bad_root.exit_code == 0);  // --list answers before the missing value matters
  auto help = run_dsv4({"tool", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("usage: dsv4 tool NAME"));
}
