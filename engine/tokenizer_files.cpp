#include "engine/tokenizer_files.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "engine/tokenizer_pretokenize.hpp"
#include "engine/unicode_utf8.hpp"

namespace dsv4::engine {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error(file.string() + ": " + what);
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot be read; pass --tokenizer a folder with tokenizer.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Json read_json(const std::filesystem::path& file) {
  Json j = Json::parse(read_text(file), nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(file, "is not a JSON object");
  return j;
}

// Reads tokenizer.json in one pass: model.vocab and model.merges, nearly all of the file,
// go straight into flat lists; the rest, a few KB, becomes a Json document. (A full
// document would spend most of the loading time on a 128,000-entry std::map.)
class TokenizerJsonReader : public nlohmann::json_sax<Json> {
 public:
  Json document;
  bool has_vocab = false, has_merges = false;
  std::vector<std::pair<std::string, int64_t>> vocab;      // -1 for an id that is no integer
  std::vector<std::pair<std::string, std::string>> merges;  // left, right
  std::string error;                                        // the first problem, if any

  bool null() override { return value(Json()); }
  bool boolean(bool b) override { return value(b); }
  bool number_integer(number_integer_t n) override { return value(n); }
  bool number_unsigned(number_unsigned_t n) override { return value(n); }
  bool number_float(number_float_t x, const string_t&) override { return value(x); }
  bool binary(binary_t&) override { return value(Json()); }
  bool string(string_t& s) override {
    if (mode_ == Mode::kMerges) {
      // The older form, "left right": byte-level tokens never hold a space.
      const size_t space = s.find(' ');
      if (space == std::string::npos) return problem("merge '" + s + "' is not two tokens");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      pair_.push_back(std::move(s));
      return true;
    }
    return value(std::move(s));
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool start_object(size_t) override {
    if (in_model() && key_ == "vocab" && mode_ == Mode::kDom) {
      has_vocab = true;
      mode_ = Mode::kVocab;
      return true;
    }
    return open(Json::object());
  }
  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    return close();
  }
  bool start_array(size_t) override {
    if (in_model() && key_ == "merges" && mode_ == Mode::kDom) {
      has_merges = true;
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {  // the newer form, ["left", "right"]
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    return open(Json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) return problem("a merge is not two tokens");
      merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kDom;
      return true;
    }
    return close();
  }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return problem(std::string("is not valid JSON: ") + e.what());
  }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };

  bool in_model() const { return open_.size() == 2 && keys_.back() == "model"; }

  bool problem(std::string what) {
    if (error.empty()) error = std::move(what);
    return false;
  }

  bool value(Json v) {
    if (mode_ == Mode::kVocab) {
      const bool id = v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < (1 << 30);
      vocab.emplace_back(std::move(key_), id ? v.get<int64_t>() : -1);
      return true;
    }
    if (mode_ != Mode::kDom) return problem("model.merges holds something other than token pairs");
    if (open_.empty()) {
      document = std::move(v);
      return true;
    }
    Json& parent = *open_.back();
    if (parent.is_object()) {
      parent[key_] = std::move(v);
    } else {
      parent.push_back(std::move(v));
    }
    return true;
  }

  bool open(Json container) {
    if (mode_ != Mode::kDom) return problem("model.vocab or model.merges holds nested values");
    Json* slot = &document;
    if (!open_.empty()) {
      Json& parent = *open_.back();
      slot = parent.is_object() ? &parent[key_] : &(parent.push_back(Json()), parent.back());
    }
    *slot = std::move(container);
    keys_.push_back(open_.empty() || !open_.back()->is_object() ? std::string() : key_);
    open_.push_back(slot);
    return true;
  }

  bool close() {
    open_.pop_back();
    keys_.pop_back();
    return true;
  }

  Mode mode_ = Mode::kDom;
  std::vector<Json*> open_;         // the containers being filled, outermost first
  std::vector<std::string> keys_;  // the key each of them sits under ("" in an array)
  std::string key_;
  std::vector<std::string> pair_;
};

// GPT-2's byte-level alphabet writes each byte as one printable character: printable
// Latin-1 bytes as themselves, the others as U+0100, U+0101, ... in byte order.
bool printable_latin1(int byte) { return (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174; }

char32_t alphabet_char(int byte) {
  if (printable_latin1(byte)) return byte;
  int rank = 0;
  for (int b = 0; b < byte; ++b) rank += !printable_latin1(b);
  return 256 + rank;
}

std::string utf8_of(char32_t cp) {
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  return {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};  // all below U+0800
}

// Byte-level token strings to raw bytes.
class ByteLevel {
 public:
  ByteLevel() {
    byte_of_.fill(-1);
    for (int b = 0; b < 256; ++b) byte_of_[alphabet_char(b)] = static_cast<int16_t>(b);
  }

  // nullopt when `token` has a character outside the alphabet.
  std::optional<std::string> to_bytes(std::string_view token) const {
    std::string bytes;
    for (size_t pos = 0; pos < token.size();) {
      const unicode::Utf8Step step = unicode::next_utf8(token, pos);
      if (step.status != unicode::Utf8Status::kChar || step.cp >= byte_of_.size() || byte_of_[step.cp] < 0) {
        return std::nullopt;
      }
      bytes.push_back(static_cast<char>(byte_of_[step.cp]));
      pos += step.len;
    }
    return bytes;
  }

 private:
  std::array<int16_t, 324> byte_of_;  // by alphabet character; -1 for others
};

// j[key], or null when j is no object or lacks the key.
const Json& at(const Json& j, const char* key) {
  static const Json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

void check_pipeline(const Json& j, const std::filesystem::path& file) {
  const Json& normalizer = at(j, "normalizer");
  const bool no_normalizer = normalizer.is_null() || (at(normalizer, "type") == "Sequence" &&
                                                      at(normalizer, "normalizers") == Json::array());
  if (!no_normalizer) fail(file, "normalizer " + normalizer.dump() + " is not supported");

  const Json& pre = at(j, "pre_tokenizer");
  const Json& steps = at(pre, "pretokenizers");
  bool known = at(pre, "type") == "Sequence" && steps.is_array() && steps.size() == 4;
  for (size_t i = 0; known && i < 3; ++i) {
    known = at(steps[i], "type") == "Split" && at(steps[i], "behavior") == "Isolated" &&
            at(steps[i], "invert") == false &&
            at(at(steps[i], "pattern"), "Regex") == std::string(kDeepSeekSplitRegexes[i]);
  }
  known = known && at(steps[3], "type") == "ByteLevel" && at(steps[3], "add_prefix_space") == false &&
          at(steps[3], "use_regex") == false;
  if (!known) {
    fail(file, "pre_tokenizer is not the DeepSeek V3/V4 one (three Split regexes and ByteLevel), "
               "the only one this tokenizer implements");
  }
  if (at(at(j, "decoder"), "type") != "ByteLevel") fail(file, "decoder is not ByteLevel");

  const Json& model = at(j, "model");
  if (at(model, "type") != "BPE") fail(file, "model type is not BPE");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix", "dropout"}) {
    if (!at(model, key).is_null()) fail(file, std::string("model.") + key + " is not supported");
  }
  if (at(model, "byte_fallback") == true || at(model, "ignore_merges") == true) {
    fail(file, "model.byte_fallback and model.ignore_merges are not supported");
  }
}

std::string token_content(const Json& token) {
  if (token.is_string()) return token.get<std::string>();
  if (at(token, "content").is_string()) return at(token, "content").get<std::string>();
  return "";
}

}  // namespace

TokenizerSpec read_tokenizer_files(const std::filesystem::path& dir) {
  const auto file = dir / "tokenizer.json";
  TokenizerJsonReader reader;
  if (!Json::sax_parse(read_text(file), &reader) || !reader.document.is_object()) {
    fail(file, reader.error.empty() ? "is not a JSON object" : reader.error);
  }
  if (!reader.has_vocab || !reader.has_merges) fail(file, "model.vocab or model.merges is missing");
  const Json& j = reader.document;
  check_pipeline(j, file);
  TokenizerSpec spec;

  const Json& added = at(j, "added_tokens");
  std::unordered_map<std::string, TokenId> added_ids;
  for (const Json& token : added.is_array() ? added : Json::array()) {
    const std::string content = token_content(token);
    if (content.empty() || !at(token, "id").is_number_integer()) {
      fail(file, "added token " + token.dump() + " has no content or id");
    }
    if (at(token, "lstrip") == true || at(token, "rstrip") == true || at(token, "single_word") == true) {
      fail(file, "added token '" + content + "' uses lstrip/rstrip/single_word, which are not supported");
    }
    const auto id = at(token, "id").get<int64_t>();
    if (id < 0 || id >= (1 << 30)) fail(file, "added token '" + content + "' has id out of range");
    spec.added.push_back({content, static_cast<TokenId>(id), at(token, "special") == true});
    added_ids[content] = static_cast<TokenId>(id);
  }

  const ByteLevel byte_level;
  std::unordered_map<std::string, TokenId> id_of;  // byte-level strings, as merges name them
  id_of.reserve(reader.vocab.size());
  for (const auto& [token, id_value] : reader.vocab) {
    if (id_value < 0) fail(file, "vocabulary id of '" + token + "' is not an integer in [0, 2^30)");
    const auto id = static_cast<TokenId>(id_value);
    if (size_t(id) >= spec.model_tokens.size()) spec.model_tokens.resize(id + 1);
    std::optional<std::string> bytes = byte_level.to_bytes(token);
    if (!bytes) {
      // Added tokens may sit in the vocabulary too, as their raw text.
      auto it = added_ids.find(token);
      if (it == added_ids.end() || it->second != id) {
        fail(file, "vocabulary token '" + token + "' is not in the byte-level alphabet");
      }
      bytes = token;
    }
    spec.model_tokens[id] = std::move(*bytes);
    id_of.emplace(token, id);
  }
  for (int b = 0; b < 256; ++b) {
    auto it = id_of.find(utf8_of(alphabet_char(b)));
    if (it == id_of.end()) fail(file, "the vocabulary has no token for byte " + std::to_string(b));
    spec.byte_ids[b] = it->second;
  }

  spec.merges.reserve(reader.merges.size());
  for (const auto& [left, right] : reader.merges) {
    auto l = id_of.find(left), r = id_of.find(right), m = id_of.find(left + right);
    if (l == id_of.end() || r == id_of.end() || m == id_of.end()) {
      fail(file, "merge '" + left + " " + right + "' names a token missing from the vocabulary");
    }
    spec.merges.push_back({l->second, r->second, m->second});
  }

  // BOS and EOS, named by content in tokenizer_config.json; without that file, none.
  const auto config_file = dir / "tokenizer_config.json";
  if (!std::filesystem::exists(config_file)) return spec;
  const Json config = read_json(config_file);
  auto id_of_content = [&](const char* key) -> std::optional<TokenId> {
    const std::string content = token_content(at(config, key));
    if (content.empty()) return std::nullopt;
    if (auto it = added_ids.find(content); it != added_ids.end()) return it->second;
    std::string byte_level_form;
    for (unsigned char b : content) byte_level_form += utf8_of(alphabet_char(b));
    if (auto it = id_of.find(byte_level_form); it != id_of.end()) return it->second;
    fail(config_file, std::string(key) + " '" + content + "' is not a token of tokenizer.json");
  };
  spec.bos = id_of_content("bos_token");
  spec.eos = id_of_content("eos_token");
  spec.add_bos = at(config, "add_bos_token") == true && spec.bos;
  spec.add_eos = at(config, "add_eos_token") == true && spec.eos;
  return spec;
}

}  // namespace dsv4::engine
