// The Unicode classes and UTF-8 repair the tokenizer relies on.
#include <catch2/catch.hpp>

#include <regex>

#include "engine/unicode_classes.hpp"
#include "engine/unicode_utf8.hpp"
#include "tests/support/run.hpp"

namespace u = dsv4::engine::unicode;

TEST_CASE("Unicode classes of well-known characters") {
  CHECK(u::classes_of('A') == u::kLetter);
  CHECK(u::classes_of(U'中') == u::kLetter);
  CHECK(u::classes_of(0x0301) == u::kMark);
  CHECK(u::classes_of('7') == u::kNumber);
  CHECK(u::classes_of(U'½') == u::kNumber);
  CHECK(u::classes_of(U'٣') == u::kNumber);
  CHECK(u::classes_of('.') == u::kPunct);
  CHECK(u::classes_of(U'・') == u::kPunct);
  CHECK(u::classes_of('+') == u::kSymbol);
  CHECK(u::classes_of(0x1F600) == u::kSymbol);  // 😀
  CHECK(u::classes_of(' ') == u::kSpace);
  CHECK(u::classes_of('\n') == u::kSpace);
  // JavaScript's \s: U+FEFF is in it, U+0085 and U+200B are not.
  CHECK(u::classes_of(0xFEFF) == u::kSpace);
  CHECK(u::classes_of(0x3000) == u::kSpace);
  CHECK(u::classes_of(0x0085) == 0);
  CHECK(u::classes_of(0x200B) == 0);
  CHECK(u::classes_of(0x200D) == 0);
  CHECK(u::classes_of(0xE000) == 0);      // private use
  CHECK(u::classes_of(0xD800) == 0);      // surrogate
  CHECK(u::classes_of(0x110000) == 0);    // beyond Unicode
  CHECK(u::classes_of(0x10FFFF) == 0);
}

TEST_CASE("the class table matches node's regex engine for every code point") {
  // node is the reference's regex engine; the generator asks it about each code point.
  const auto r = dsv4::test::run({"node", "engine/unicode_tables_gen.mjs"}, DSV4_SOURCE_DIR);
  REQUIRE(r.exit_code == 0);
  std::vector<std::pair<char32_t, int>> runs;
  const std::regex entry(R"(\{0x([0-9A-F]+), (\d+)\})");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), entry), end; it != end; ++it) {
    runs.emplace_back(std::stoul((*it)[1], nullptr, 16), std::stoi((*it)[2]));
  }
  REQUIRE(runs.size() > 1000);
  size_t mismatches = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const char32_t last = i + 1 < runs.size() ? runs[i + 1].first : 0x110000;
    for (char32_t cp = runs[i].first; cp < last; ++cp) {
      if (u::classes_of(cp) != runs[i].second && mismatches++ < 5) {
        FAIL_CHECK("U+" << std::hex << uint32_t(cp) << ": table " << int(u::classes_of(cp)) << ", node "
                        << runs[i].second << " (regenerate engine/unicode_tables.inc)");
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("ill-formed UTF-8 becomes one U+FFFD per maximal subpart") {
  const std::string R = "\xEF\xBF\xBD";
  // The examples of the Unicode Standard, section 3.9 (U+FFFD substitution).
  CHECK(u::utf8_lossy("\xC0\xAF") == R + R);
  CHECK(u::utf8_lossy("\xE0\x80\xAF") == R + R + R);
  CHECK(u::utf8_lossy("\xED\xA0\x80") == R + R + R);
  CHECK(u::utf8_lossy("\xF4\x90\x80\x80") == R + R + R + R);
  CHECK(u::utf8_lossy("\xF0\x9F\x98") == R);
  CHECK(u::utf8_lossy("a\xF0\x9F\x98" "b") == "a" + R + "b");
  CHECK(u::utf8_lossy("\xE4\xB8\xE4\xB8\xAD") == R + "中");
  CHECK(u::utf8_lossy("\xFF\x80") == R + R);
  CHECK(u::utf8_lossy("ok \xF0\x9F\x98\x80") == "ok 😀");
  std::string out;
  CHECK(u::append_utf8_lossy("ab\xF0\x9F", out, false) == 2);  // holds back the truncated character
  CHECK(out == "ab");
  CHECK(u::append_utf8_lossy("\xF0\x9F", out, true) == 2);
  CHECK(out == "ab" + R);
}
