#pragma once
// Reads a Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json) into plain
// data, refusing what this tokenizer does not implement with a message that says so.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/tokenizer_bpe.hpp"

namespace dsv4::engine {

struct AddedTokenSpec {
  std::string content;  // matched literally in the raw text
  TokenId id;
  bool special;  // dropped by decode with skip_special
};

struct TokenizerSpec {
  std::vector<std::string> model_tokens;  // raw bytes by id; empty where no model token
  std::vector<BpeMerge> merges;           // in rank order
  std::vector<AddedTokenSpec> added;
  bool add_bos = false, add_eos = false;  // what encode(text, add_special=true) adds
  std::string bos_token, eos_token;       // contents; empty when not configured
};

// Throws std::runtime_error naming the file and what in it is wrong or unsupported.
TokenizerSpec read_tokenizer_files(const std::filesystem::path& dir);

}  // namespace dsv4::engine
