// Properties of the tokenizer on hostile input, the streaming decoder, added-token
// matching on a small hand-made tokenizer, and the loader's refusals.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <thread>

#include "engine/tokenizer_pretokenize.hpp"
#include "engine/unicode_utf8.hpp"
#include "tests/engine/tokenizer_support.hpp"
#include "tests/support/temp_dir.hpp"

using dsv4::engine::StreamDecoder;
using dsv4::engine::TokenId;
using dsv4::engine::Tokenizer;
using dsv4::test::golden_tokenizer;
using Ids = std::vector<TokenId>;
using nlohmann::json;

namespace {

const std::vector<std::string>& kValidPieces = dsv4::test::valid_text_pieces();
// Ill-formed UTF-8: stray continuation bytes, truncated characters, overlongs, surrogates.
const std::vector<std::string> kInvalidPieces = {
    "\xff", "\xc3", "\xe4\xb8", "\xf0\x9f\x98", "\x80", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
};

std::string random_text(std::mt19937& rng, const std::vector<std::string>& pieces, int max_pieces) {
  std::string text;
  const int n = std::uniform_int_distribution<int>(1, max_pieces)(rng);
  for (int i = 0; i < n; ++i) text += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
  return text;
}

std::vector<std::string> token_texts(const Tokenizer& t, const Ids& ids) {
  std::vector<std::string> out;
  for (TokenId id : ids) out.emplace_back(t.token_bytes(id));
  return out;
}

bool valid_utf8(std::string_view s) { return dsv4::engine::unicode::utf8_lossy(s) == s; }

std::string utf8_of(char32_t cp) {
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  return {static_cast<char>(0xC0 | cp >> 6), static_cast<char>(0x80 | (cp & 0x3F))};
}

}  // namespace

TEST_CASE("encode then decode gives back any bytes, hostile ones included") {
  const auto& t = golden_tokenizer();
  std::mt19937 rng(20261122);
  std::vector<std::string> all = kValidPieces;
  all.insert(all.end(), kInvalidPieces.begin(), kInvalidPieces.end());
  for (int i = 0; i < 500; ++i) {
    const std::string text = random_text(rng, i % 2 ? all : kValidPieces, 40);
    INFO("text " << json(dsv4::engine::unicode::utf8_lossy(text)).dump());
    const Ids ids = t.encode(text);
    CHECK(t.decode_bytes(ids) == text);
    CHECK(t.decode_bytes(t.encode_ordinary(text)) == text);
    if (valid_utf8(text)) CHECK(t.decode(ids) == text);
  }
  for (const std::string& big : {std::string(200000, 'a'), std::string(100000, ' '), std::string(30000, '9'),
                                 std::string(50000, '\n') + "x", std::string(20000, '\xff')}) {
    CHECK(t.decode_bytes(t.encode(big)) == big);
  }
  CHECK(t.encode("").empty());
  CHECK(t.decode(Ids{}).empty());
}

TEST_CASE("added-token strings are single ids in encode and plain text in encode_ordinary") {
  const auto& t = golden_tokenizer();
  const std::string text = "abc<｜User｜>def<｜end▁of▁sentence｜>ghi";
  const Ids ids = t.encode(text);
  CHECK(std::count(ids.begin(), ids.end(), 128803) == 1);
  CHECK(std::count(ids.begin(), ids.end(), 1) == 1);
  const Ids plain = t.encode_ordinary(text);
  CHECK(std::count(plain.begin(), plain.end(), 128803) == 0);
  CHECK(std::count(plain.begin(), plain.end(), 1) == 0);
  CHECK(t.decode(plain) == text);
  CHECK(t.decode(ids, true) == "abc<｜User｜>defghi");  // only special tokens are skipped
}

TEST_CASE("the pre-tokenizer cuts text where the declared regexes do") {
  auto pieces = [](std::string_view text) {
    std::vector<std::string> out;
    dsv4::engine::pretokenize(text, [&](std::string_view piece) { out.emplace_back(piece); });
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(pieces("Hello world") == V{"Hello", " world"});
  CHECK(pieces("a  b") == V{"a", " ", " b"});         // \s+(?!\S) leaves the last space to the word
  CHECK(pieces("x\n\n  y") == V{"x", "\n\n", " ", " y"});  // \s*[\r\n]+ ends at the last newline
  CHECK(pieces("foo  \n") == V{"foo", "  \n"});
  CHECK(pieces("a   ") == V{"a", "   "});
  CHECK(pieces("#include <x>") == V{"#include", " <", "x", ">"});
  CHECK(pieces("...\n\nfoo") == V{"...\n\n", "foo"});
  CHECK(pieces("abc\r\n") == V{"abc", "\r\n"});
  CHECK(pieces("12345") == V{"123", "45"});
  CHECK(pieces("٣٤٥٦") == V{"٣٤٥", "٦"});  // every \p{N}, not only ASCII digits
  CHECK(pieces("😀👍") == V{"😀👍"});
  CHECK(pieces("👩\u200d💻") == V{"👩", "\u200d", "💻"});  // ZWJ matches nothing: a piece of its own
  CHECK(pieces("日本・東京") == V{"日本", "・", "東京"});
  CHECK(pieces("漢字abc") == V{"漢字", "abc"});
  CHECK(pieces("e\u0301 \u0301abc") == V{"e\u0301", " \u0301abc"});
  CHECK(pieces("x\u00a0y") == V{"x", "\u00a0y"});
  CHECK(pieces("\xff\xff" "ab") == V{"\xff", "\xff" "ab"});
  CHECK(pieces("").empty());
}

TEST_CASE("numbers split into groups of three from the left, a space before them apart") {
  const auto& t = golden_tokenizer();
  CHECK(token_texts(t, t.encode("1234567")) == std::vector<std::string>{"123", "456", "7"});
  CHECK(token_texts(t, t.encode(" 42")) == std::vector<std::string>{" ", "42"});
  CHECK(token_texts(t, t.encode("x 1a")) == std::vector<std::string>{"x", " ", "1", "a"});
}

TEST_CASE("the stream decoder holds back a character until its last byte arrives") {
  const auto& t = golden_tokenizer();
  // Single-byte tokens, taken from encoding lone ill-formed bytes.
  auto byte_token = [&](unsigned char b) { return t.encode(std::string(1, static_cast<char>(b))).at(0); };
  StreamDecoder d(t);
  CHECK(d.push(byte_token(0xF0)).empty());
  CHECK(d.push(byte_token(0x9F)).empty());
  CHECK(d.push(byte_token(0x98)).empty());
  CHECK(d.push(byte_token(0x80)) == "😀");
  CHECK(d.push(byte_token(0xC3)).empty());
  CHECK(d.push(t.encode("a").at(0)) == "\ufffda");  // the character never completed
  CHECK(d.push(byte_token(0xE4)).empty());
  CHECK(d.finish() == "\ufffd");
  CHECK(d.finish().empty());
  StreamDecoder skipping(t, true);
  CHECK(skipping.push(0).empty());
  CHECK(skipping.push(t.encode("hi").at(0)) == "hi");
}

TEST_CASE("the stream decoder's pieces add up to decode, and each is valid UTF-8") {
  const auto& t = golden_tokenizer();
  std::mt19937 rng(7);
  Ids pool;
  for (int b = 0x80; b < 0x100; ++b) pool.push_back(t.encode(std::string(1, static_cast<char>(b))).at(0));
  for (const std::string& s : kValidPieces) {
    for (TokenId id : t.encode(s)) pool.push_back(id);
  }
  for (TokenId id : {0, 1, 2, 128803, 128815, 129279}) pool.push_back(id);
  for (int i = 0; i < 300; ++i) {
    Ids ids(std::uniform_int_distribution<int>(1, 25)(rng));
    for (TokenId& id : ids) id = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
    for (bool skip : {false, true}) {
      StreamDecoder d(t, skip);
      std::string streamed;
      for (TokenId id : ids) {
        const std::string part = d.push(id);
        CHECK(valid_utf8(part));
        streamed += part;
      }
      streamed += d.finish();
      CHECK(streamed == t.decode(ids, skip));
    }
  }
}

TEST_CASE("encode is safe from several threads at once") {
  const auto& t = golden_tokenizer();
  std::mt19937 rng(3);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back(random_text(rng, kValidPieces, 60));
  std::vector<Ids> expected;
  for (const auto& s : texts) expected.push_back(t.encode(s));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) mismatches[k] += t.encode(texts[i]) != expected[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

namespace {

// A small tokenizer: the golden file's pipeline, ids 0..255 for the bytes, a few merges and
// added tokens, so that every expected id below follows from the definitions alone.
class TinyTokenizer {
 public:
  explicit TinyTokenizer(const std::function<void(json&)>& edit = nullptr) {
    std::ifstream in(dsv4::test::golden_tokenizer_dir() / "tokenizer.json");
    json j = json::parse(in);
    json vocab = json::object();
    for (int b = 0, extra = 256; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      vocab[utf8_of(printable ? char32_t(b) : char32_t(extra++))] = b;
    }
    vocab["bc"] = 256, vocab["ab"] = 257, vocab["abc"] = 258, vocab["aa"] = 259;
    j["model"]["vocab"] = vocab;
    j["model"]["merges"] = {"b c", "a b", "ab c", "a a"};
    j["added_tokens"] = json::array();
    const std::pair<const char*, int> added[] = {{"<a>", 300}, {"<a>b", 301}, {"a>", 302}};
    for (auto [content, id] : added) {
      j["added_tokens"].push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                                   {"rstrip", false}, {"normalized", false}, {"special", id == 300}});
    }
    if (edit) edit(j);
    dir_.write("tokenizer.json", j.dump());
  }
  Tokenizer load() const { return Tokenizer::load(dir_.path()); }
  void write_config(const json& config) const { dir_.write("tokenizer_config.json", config.dump()); }

 private:
  dsv4::test::TempDir dir_;
};

}  // namespace

TEST_CASE("merges may be written as [left, right] pairs, as newer files do") {
  const Tokenizer t = TinyTokenizer([](json& j) {
                        j["model"]["merges"] = json::array();
                        for (auto [l, r] : {std::pair{"b", "c"}, {"a", "b"}, {"ab", "c"}, {"a", "a"}}) {
                          j["model"]["merges"].push_back(json::array({l, r}));
                        }
                      }).load();
  CHECK(t.encode("abc") == Ids{'a', 256});
  CHECK(t.encode("aaab") == Ids{259, 257});
}

TEST_CASE("a merge listed twice takes its later rank, as in the references") {
  // "a b" again after "ab c": "b c" (rank 0) still wins in "abc"; in "aab", "a a" (rank 3)
  // now beats "a b" (rank 4), which it would not with the first rank (1).
  const Tokenizer t = TinyTokenizer([](json& j) { j["model"]["merges"].push_back("a b"); }).load();
  CHECK(t.encode("aab") == Ids{259, 'b'});
  CHECK(TinyTokenizer().load().encode("aab") == Ids{'a', 257});
}

TEST_CASE("BPE applies merges by rank, leftmost first among equals") {
  const Tokenizer t = TinyTokenizer().load();
  CHECK(t.encode("abc") == Ids{'a', 256});  // "b c" outranks "a b", and "a bc" is no merge
  CHECK(t.encode("ab") == Ids{257});
  CHECK(t.encode("aaa") == Ids{259, 'a'});
  CHECK(t.encode("aaaa") == Ids{259, 259});
  CHECK(t.encode("xyz") == Ids{'x', 'y', 'z'});
  CHECK_FALSE(t.bos_id().has_value());  // no tokenizer_config.json: no BOS/EOS
  CHECK(t.encode("ab", true) == Ids{257});
}

TEST_CASE("added tokens match leftmost first, then longest, anywhere in the text") {
  const Tokenizer t = TinyTokenizer().load();
  CHECK(t.encode("x<a>bc<a>") == Ids{'x', 301, 'c', 300});
  CHECK(t.encode("<a>") == Ids{300});
  CHECK(t.encode("a>") == Ids{302});
  CHECK(t.encode("<<a>>") == Ids{'<', 300, '>'});
  CHECK(t.decode(Ids{301, 300, 'c'}, true) == "<a>bc");
  CHECK(t.decode(Ids{260, 299}).empty());  // ids between the vocabulary and the added tokens
}

TEST_CASE("tokenizer_config.json names BOS and EOS by content, model or added tokens alike") {
  const TinyTokenizer tiny;
  tiny.write_config({{"add_bos_token", true}, {"bos_token", "x"}, {"add_eos_token", true},
                     {"eos_token", {{"content", "<a>"}, {"__type", "AddedToken"}}}});
  const Tokenizer t = tiny.load();
  CHECK(t.bos_id() == 'x');
  CHECK(t.eos_id() == 300);
  CHECK(t.encode("ab", true) == Ids{'x', 257, 300});
  CHECK(t.encode("ab") == Ids{257});
  tiny.write_config({{"add_bos_token", true}, {"bos_token", "<nope>"}});
  CHECK_THROWS_WITH(tiny.load(), Catch::Contains("tokenizer_config.json: bos_token '<nope>' is not a token"));
}

TEST_CASE("loading refuses missing, broken and unsupported tokenizer files, saying where") {
  using Catch::Contains;
  dsv4::test::TempDir empty;
  CHECK_THROWS_WITH(Tokenizer::load(empty.path()), Contains("tokenizer.json") && Contains("cannot be read"));
  dsv4::test::TempDir broken;
  broken.write("tokenizer.json", "{\"model\": ");
  CHECK_THROWS_WITH(Tokenizer::load(broken.path()), Contains("is not valid JSON") && Contains("line 1, column 11"));
  auto refuses = [](const std::function<void(json&)>& edit) {
    try {
      TinyTokenizer(edit).load();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  CHECK_THAT(refuses([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\p{N}+"; }),
             Contains("pre_tokenizer is not the DeepSeek"));
  CHECK_THAT(refuses([](json& j) { j["normalizer"] = {{"type", "NFC"}}; }), Contains("normalizer"));
  CHECK_THAT(refuses([](json& j) { j["model"]["merges"].push_back("q zz"); }), Contains("merge 'q zz'"));
  CHECK_THAT(refuses([](json& j) { j["model"]["vocab"].erase("A"); }), Contains("no token for byte 65"));
  CHECK_THAT(refuses([](json& j) { j["added_tokens"][0]["lstrip"] = true; }), Contains("lstrip"));
  CHECK_THAT(refuses([](json& j) { j["model"]["vocab"]["\u4e00"] = 400; }), Contains("byte-level alphabet"));
  CHECK_THAT(refuses([](json& j) { j["model"]["vocab"]["q"] = "7"; }), Contains("vocabulary id of 'q'"));
  CHECK_THAT(refuses([](json& j) { j["model"]["merges"].push_back(json::array({"a", "b", "c"})); }), Contains("not two tokens"));
  CHECK_THAT(refuses([](json& j) { j["model"]["merges"].push_back(7); }), Contains("model.merges holds"));
  CHECK_THAT(refuses([](json& j) { j["model"].erase("merges"); }), Contains("model.merges is missing"));
}
