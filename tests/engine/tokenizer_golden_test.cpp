// Every case of ../shared/golden/tokenizer/cases.jsonl, produced by the npm reference and
// cross-checked with Hugging Face's Rust `tokenizers`.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "tests/engine/tokenizer_support.hpp"

using dsv4::engine::TokenId;
using nlohmann::json;

namespace {

std::vector<json> golden_cases() {
  std::ifstream in(std::filesystem::path(DSV4_SHARED_DIR) / "golden" / "tokenizer" / "cases.jsonl");
  std::vector<json> cases;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

// GPT-2's byte-level alphabet written out from its definition, to read the cases'
// `tokens` independently of the tokenizer's own table.
std::string alphabet_to_bytes(const std::string& token) {
  static const std::map<char32_t, char> byte_of = [] {
    std::map<char32_t, char> m;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      m[printable ? char32_t(b) : next++] = static_cast<char>(b);
    }
    return m;
  }();
  std::string bytes;
  for (size_t i = 0; i < token.size();) {
    auto b0 = static_cast<unsigned char>(token[i]);
    char32_t cp = b0 < 0x80 ? b0 : b0 < 0xE0 ? ((b0 & 0x1F) << 6 | (token[i + 1] & 0x3F)) : 0xFFFFFFFF;
    i += b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : 3;
    auto it = byte_of.find(cp);
    if (it == byte_of.end()) return token;  // an added token, written as its text
    bytes += it->second;
  }
  return bytes;
}

}  // namespace

TEST_CASE("every golden tokenizer case encodes to the reference ids and decodes back") {
  const auto& tokenizer = dsv4::test::golden_tokenizer();
  const auto cases = golden_cases();
  REQUIRE(cases.size() >= 200);
  for (const json& c : cases) {
    INFO("case " << c["id"].get<std::string>());
    const auto text = c["text"].get<std::string>();
    const auto expected = c["ids"].get<std::vector<TokenId>>();
    const auto ids = tokenizer.encode(text);
    CHECK(ids == expected);
    CHECK(tokenizer.decode_bytes(ids) == text);
    if (!c["decoded"].is_null()) CHECK(tokenizer.decode(expected) == c["decoded"].get<std::string>());
    const json& skip = c["decoded_skip_special"];
    CHECK(tokenizer.decode(expected, true) == (skip.is_null() ? "" : skip.get<std::string>()));
    const auto tokens = c["tokens"].get<std::vector<std::string>>();
    REQUIRE(tokens.size() == expected.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      CHECK(tokenizer.token_bytes(expected[i]) == alphabet_to_bytes(tokens[i]));
    }
  }
}

TEST_CASE("the golden tokenizer's facts: BOS, EOS, added tokens, vocabulary size") {
  const auto& tokenizer = dsv4::test::golden_tokenizer();
  CHECK(tokenizer.bos_id() == 0);
  CHECK(tokenizer.eos_id() == 1);
  CHECK(tokenizer.size() == 128815);  // ids 0..128814; the model's 129,280 rows leave the rest unassigned
  CHECK(tokenizer.added_token_id("<｜User｜>") == 128803);
  CHECK(tokenizer.added_token_id("<|EOT|>") == 128805);
  CHECK_FALSE(tokenizer.added_token_id("</think>").has_value());
  CHECK(tokenizer.is_special(0));
  CHECK(tokenizer.is_special(128799));
  CHECK_FALSE(tokenizer.is_special(128803));  // <｜User｜> is added but not special
  // tokenizer_config.json: add_bos_token true, add_eos_token false.
  CHECK(tokenizer.encode("Hello", true) == std::vector<TokenId>{0, 19923});
  CHECK(tokenizer.encode("Hello", false) == std::vector<TokenId>{19923});
  // Unassigned ids decode to nothing, as in the reference.
  CHECK(tokenizer.decode(std::vector<TokenId>{19923, 128815, 129279, -5, 1 << 30}) == "Hello");
}
