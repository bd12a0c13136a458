#include <catch2/catch.hpp>

#include <string>

#include "tools/closest_match.hpp"

using dsv4::tools::closest_match;

TEST_CASE("closest_match finds the region most like the needle, line by line") {
  const std::string text = "alpha\nbeta\n\tgamma(1, 2);\n\tdelta;\nepsilon\n";
  auto typo = closest_match(text, "gamma(1, 3);\ndelta;\n");
  REQUIRE(typo);
  CHECK(typo->first_line == 3);
  CHECK(typo->last_line == 4);
  CHECK_FALSE(typo->whitespace_only);

  auto spaces = closest_match(text, "    gamma(1,  2);\n    delta;   \r\n");
  REQUIRE(spaces);
  CHECK(spaces->first_line == 3);
  CHECK(spaces->whitespace_only);

  CHECK_FALSE(closest_match(text, "nothing like it at all\nreally nothing\n"));
  CHECK_FALSE(closest_match("", "x"));
  CHECK_FALSE(closest_match(text, "\n\n"));
}

TEST_CASE("closest_match stays exact about whitespace-only matches in huge texts") {
  std::string text;
  for (int i = 0; i < 300000; ++i) text += "  statement_" + std::to_string(i) + "();\n";
  auto m = closest_match(text, "statement_250000();\n\tstatement_250001();\n");
  REQUIRE(m);
  CHECK(m->first_line == 250001);
  CHECK(m->last_line == 250002);
  CHECK(m->whitespace_only);
}
