#include "engine/tokenizer_files.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
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

Json read_json(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot be read; pass --tokenizer a folder with tokenizer.json");
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(file, "is not a JSON object");
  return j;
}

// GPT-2's byte-level alphabet, reversed: the byte each alphabet character stands for.
std::unordered_map<char32_t, uint8_t> byte_of_alphabet_char() {
  std::unordered_map<char32_t, uint8_t> map;
  char32_t extra = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    map[printable ? char32_t(b) : extra++] = static_cast<uint8_t>(b);
  }
  return map;
}

class ByteLevel {
 public:
  explicit ByteLevel(std::filesystem::path file) : file_(std::move(file)) {}

  std::string to_bytes(const std::string& token) const {
    std::string bytes;
    for (size_t pos = 0; pos < token.size();) {
      const unicode::Utf8Step step = unicode::next_utf8(token, pos);
      auto it = step.status == unicode::Utf8Status::kChar ? map_.find(step.cp) : map_.end();
      if (it == map_.end()) {
        fail(file_, "vocabulary token '" + token + "' is not in the byte-level alphabet");
      }
      bytes.push_back(static_cast<char>(it->second));
      pos += step.len;
    }
    return bytes;
  }

 private:
  std::filesystem::path file_;
  std::unordered_map<char32_t, uint8_t> map_ = byte_of_alphabet_char();
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
  if (!at(model, "vocab").is_object() || !at(model, "merges").is_array()) {
    fail(file, "model.vocab is not an object or model.merges not an array");
  }
}

std::string token_content(const Json& token) {
  if (token.is_string()) return token.get<std::string>();
  if (at(token, "content").is_string()) return at(token, "content").get<std::string>();
  return "";
}

void read_config(const std::filesystem::path& dir, TokenizerSpec& spec) {
  const auto file = dir / "tokenizer_config.json";
  if (!std::filesystem::exists(file)) return;  // no BOS/EOS configured
  const Json config = read_json(file);
  spec.add_bos = at(config, "add_bos_token") == true;
  spec.add_eos = at(config, "add_eos_token") == true;
  spec.bos_token = token_content(at(config, "bos_token"));
  spec.eos_token = token_content(at(config, "eos_token"));
}

}  // namespace

TokenizerSpec read_tokenizer_files(const std::filesystem::path& dir) {
  const auto file = dir / "tokenizer.json";
  const Json j = read_json(file);
  check_pipeline(j, file);
  TokenizerSpec spec;
  const ByteLevel byte_level(file);

  const Json& added = at(j, "added_tokens");
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
  }
  const Json& vocab = at(at(j, "model"), "vocab");
  std::unordered_map<std::string, TokenId> id_of;  // byte-level strings, as merges name them
  id_of.reserve(vocab.size());
  for (const auto& [token, id_json] : vocab.items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 || id_json.get<int64_t>() >= (1 << 30)) {
      fail(file, "vocabulary id of '" + token + "' is not an integer in [0, 2^30)");
    }
    const auto id = id_json.get<TokenId>();
    if (size_t(id) >= spec.model_tokens.size()) spec.model_tokens.resize(id + 1);
    // Added tokens may sit in the vocabulary too, as their raw text.
    const bool added_here = std::any_of(spec.added.begin(), spec.added.end(),
                                        [&](const AddedTokenSpec& a) { return a.id == id && a.content == token; });
    spec.model_tokens[id] = added_here ? token : byte_level.to_bytes(token);
    id_of[token] = id;
  }

  const Json& merges = at(at(j, "model"), "merges");
  spec.merges.reserve(merges.size());
  for (const Json& merge : merges) {
    // Older files write "left right"; newer ones ["left", "right"]. Byte-level tokens never
    // hold a space, so the first form is unambiguous.
    std::string left, right;
    if (merge.is_string()) {
      const auto text = merge.get<std::string>();
      const size_t space = text.find(' ');
      if (space == std::string::npos) fail(file, "merge '" + text + "' is not two tokens");
      left = text.substr(0, space), right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>(), right = merge[1].get<std::string>();
    } else {
      fail(file, "merge " + merge.dump() + " is neither \"left right\" nor [left, right]");
    }
    auto l = id_of.find(left), r = id_of.find(right), m = id_of.find(left + right);
    if (l == id_of.end() || r == id_of.end() || m == id_of.end()) {
      fail(file, "merge '" + left + " " + right + "' names a token missing from the vocabulary");
    }
    spec.merges.push_back({l->second, r->second, m->second});
  }

  read_config(dir, spec);
  return spec;
}

}  // namespace dsv4::engine
