#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "tests/engine/golden_v4.hpp"
#include "tests/support/run.hpp"

namespace {

// The number after `label` in the bench's output, or -1 when the line is missing.
double number_after(const std::string& out, const std::string& label) {
  const std::regex re(label + R"(\s*([0-9.]+(e[-+]?[0-9]+)?))");
  std::smatch m;
  return std::regex_search(out, m, re) ? std::stod(m[1]) : -1;
}

}  // namespace

TEST_CASE("bench engine: one run on a real-format checkpoint reports every measurement") {
  const std::string model = dsv4::test::golden_v4_dir("case4_quantized_checkpoint");
  const auto r = dsv4::test::run_dsv4({"bench", "engine", "--model", model, "--decode", "8", "--prefill", "8", "--threads", "2"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(number_after(r.out, "memory bandwidth: copy") > 0);
  CHECK(number_after(r.out, "read-only") > 0);
  CHECK(number_after(r.out, R"(FMA peak \([a-z0-9-]+\):)") > 0);
  // A checkpoint this small sits in 4 KiB pages; the count must still be one of its sizes.
  const double huge = number_after(r.out, "weights mapped in 2 MiB pages:");
  CHECK(huge >= 0);
  CHECK(huge <= number_after(r.out, R"(2 MiB pages: [0-9.e+-]+ of)"));
  CHECK(number_after(r.out, "prefill 8 tokens:") > 0);
  CHECK(number_after(r.out, "decode 8 tokens:") > 0);
  CHECK(number_after(r.out, "median of 1 rounds:") > 0);
  CHECK(number_after(r.out, "threads take") > 0);  // the token at the kernels' own rates
  CHECK(number_after(r.out, "decoding reaches") > 0);
  CHECK(number_after(r.out, "decode at 16384 tokens of context:") > 0);
  CHECK(number_after(r.out, "decode at 65536 tokens of context:") > 0);
  // The CSA layers' measured KV growth near the formula's (a window still open at the end has
  // added nothing yet).
  const double csa = number_after(r.out, "KV bytes per token per CSA layer:");
  CHECK(csa > 0.8 * number_after(r.out, "formula"));
  CHECK(number_after(r.out, "resident memory:") > 0);
}

TEST_CASE("bench engine: bad flags are refused with the usage and exit 2") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"bench", "engine", "--decode", "many"},
                                               {"bench", "engine", "--kernels", "avx9"},
                                               {"bench", "engine", "--frobnicate", "1"},
                                               {"bench", "engine", "--model"}}) {
    const auto r = dsv4::test::run_dsv4(args);
    INFO(args[2]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("usage: dsv4 bench engine") != std::string::npos);
  }
}
