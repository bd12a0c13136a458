#pragma once
// The DeepSeek V3/V4 tokenizer: byte-level BPE loaded from a Hugging Face tokenizer
// folder, with added tokens matched whole before anything else, as the reference
// tokenizers (Hugging Face `tokenizers`, transformers.js) do.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::engine {

using TokenId = int32_t;

class Tokenizer {
 public:
  // Reads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json (BOS/EOS).
  // Throws std::runtime_error naming the file and the problem.
  static Tokenizer load(const std::filesystem::path& dir);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // The ids of `text` (bytes; ill-formed UTF-8 is kept byte for byte). Added-token strings
  // in the text (special or not) become their ids. With `add_special`, BOS and/or EOS are
  // added as tokenizer_config.json asks (add_bos_token / add_eos_token).
  // Thread-safe; concurrent calls share a cache of pre-token results.
  std::vector<TokenId> encode(std::string_view text, bool add_special = false) const;
  // Like encode without add_special, but added-token strings are ordinary text: for
  // untrusted content that must not inject control tokens.
  std::vector<TokenId> encode_ordinary(std::string_view text) const;

  // The exact bytes of `ids`. Ids without a token (unassigned, negative, too large) give
  // nothing, as in the reference; `skip_special` also drops special added tokens.
  std::string decode_bytes(std::span<const TokenId> ids, bool skip_special = false) const;
  // decode_bytes as text: ill-formed UTF-8 subparts become U+FFFD, as in the reference.
  std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;

  // The bytes of one token; empty for an id without one.
  std::string_view token_bytes(TokenId id) const;
  bool is_special(TokenId id) const;
  // The id of an added token, by its exact content.
  std::optional<TokenId> added_token_id(std::string_view content) const;
  std::optional<TokenId> bos_id() const;
  std::optional<TokenId> eos_id() const;
  // One more than the highest id with a token.
  size_t size() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::vector<TokenId> encode_impl(std::string_view text, bool added_tokens, bool add_special) const;
  std::unique_ptr<Impl> impl_;
};

// Decodes a stream of ids as they come. The concatenation of every push() and finish()
// equals Tokenizer::decode of all ids: a token that ends inside a UTF-8 character is held
// back until the character is complete (or proves ill-formed, then it is U+FFFD).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false);
  // The text that `id` completes; may be empty.
  std::string push(TokenId id);
  // What is still held back, as U+FFFD; the decoder is then empty again.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::string pending_;  // the start of a character not yet complete
};

}  // namespace dsv4::engine
