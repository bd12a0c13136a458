// OutputBuffer against the plain string it stands for: what it shows must be a prefix and
// a suffix of the real output, and what it says was cut must add up.
#include "tools/output_buffer.hpp"
#include "tools/utf8_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dsv4::tools::escape_invalid_utf8;
using dsv4::tools::OutputBuffer;

namespace {

std::string numbered_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

// Feeds `all` in uneven pieces, as a pipe would.
OutputBuffer feed(const std::string& all, size_t head, size_t tail) {
  OutputBuffer b(head, tail);
  for (size_t i = 0, step = 1; i < all.size(); i += step, step = step * 7 % 4093 + 1)
    b.append(std::string_view(all).substr(i, step));
  return b;
}

}  // namespace

TEST_CASE("short output is shown whole") {
  auto b = feed("hello\nworld\n", 1024, 1024);
  auto r = b.render(0, 1024, 1024);
  CHECK(r.text == "hello\nworld\n");
  CHECK(r.cut_bytes == 0);
  CHECK(b.total_bytes() == 12);
  CHECK(b.render(6, 1024, 1024).text == "world\n");
  CHECK(b.render(12, 1024, 1024).text.empty());
  CHECK_THROWS_WITH(b.render(13, 1024, 1024), Catch::Contains("beyond the 12 bytes"));
}

TEST_CASE("long output keeps its head and tail and counts what was cut") {
  const std::string all = numbered_lines(100000);  // about 1.2 MB
  auto b = feed(all, 16 * 1024, 16 * 1024);
  auto r = b.render(0, 16 * 1024, 16 * 1024);
  auto marker = r.text.find("[... ");
  REQUIRE(marker != std::string::npos);
  auto marker_end = r.text.find(" cut here ...]\n", marker);
  REQUIRE(marker_end != std::string::npos);
  std::string head = r.text.substr(0, marker);
  std::string tail = r.text.substr(marker_end + std::strlen(" cut here ...]\n"));
  CHECK(all.starts_with(head));
  CHECK(all.ends_with(tail));
  CHECK(head.size() <= 16 * 1024);
  CHECK(tail.size() <= 16 * 1024);
  CHECK(head.size() > 12 * 1024);  // cut at a line end near the limit, not far before it
  CHECK(head.back() == '\n');
  CHECK(tail.starts_with("line "));
  CHECK(r.cut_bytes == all.size() - head.size() - tail.size());
  auto cut = all.substr(head.size(), r.cut_bytes);
  auto lines = std::count(cut.begin(), cut.end(), '\n');
  CHECK_THAT(r.text, Catch::Contains("[... " + std::to_string(r.cut_bytes) + " bytes (" +
                                     std::to_string(lines) + " lines) cut here ...]"));
}

TEST_CASE("asking from an offset shows only newer output, and says what is no longer kept") {
  const std::string all = numbered_lines(50000);
  auto b = feed(all, 1000, 4000);
  auto recent = b.render(all.size() - 100, 1000, 1000);
  CHECK(recent.text == all.substr(all.size() - 100));
  auto lost = b.render(5000, 100, 100);
  CHECK_THAT(lost.text, Catch::StartsWith("[... "));
  CHECK(all.ends_with(lost.text.substr(lost.text.rfind("...]\n") + 5)));
  CHECK(lost.cut_bytes > all.size() - 5000 - 8000);
  // From the head, the dropped middle counts its lines too.
  auto whole = b.render(0, 1000, 1000);
  auto marker = whole.text.find("[... ");
  std::string head = whole.text.substr(0, marker);
  auto cut = all.substr(head.size(), whole.cut_bytes);
  CHECK_THAT(whole.text,
             Catch::Contains(std::to_string(std::count(cut.begin(), cut.end(), '\n')) + " lines"));
}

TEST_CASE("a cut never splits a multi-byte character") {
  std::string all;
  for (int i = 0; i < 20000; ++i)
    all += "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // é € 😀, no newlines
  auto b = feed(all, 1001, 1003);
  auto r = b.render(0, 1001, 1003);
  CHECK(r.invalid_bytes == 0);
  CHECK_NOTHROW(nlohmann::json(r.text).dump());  // throws on invalid UTF-8
}

TEST_CASE("bytes that are not UTF-8 are shown as \\xNN and the rest is kept") {
  uint64_t invalid = 0;
  CHECK(escape_invalid_utf8("plain", &invalid) == "plain");
  CHECK(invalid == 0);
  CHECK(escape_invalid_utf8("\x89PNG\r\n\x1a\n", &invalid) == "\\x89PNG\r\n\x1a\n");
  CHECK(invalid == 1);
  invalid = 0;
  // Overlong "/", a UTF-16 surrogate, a code point above U+10FFFF, a truncated sequence.
  CHECK(escape_invalid_utf8("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82", &invalid) ==
        "\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80|\\xe2\\x82");
  CHECK(invalid == 11);
  invalid = 0;
  CHECK(escape_invalid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80", &invalid) ==
        "caf\xc3\xa9 \xf0\x9f\x98\x80");
  CHECK(invalid == 0);
  std::string random;
  for (int i = 0; i < 100000; ++i) random += static_cast<char>((i * 2654435761u) >> 13);
  auto escaped = escape_invalid_utf8(random, &invalid);
  CHECK_NOTHROW(nlohmann::json(escaped).dump());
}
