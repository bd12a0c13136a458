#pragma once
// Shared by the tokenizer tests: the golden DeepSeek V3 tokenizer and the npm reference.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/tokenizer.hpp"

namespace dsv4::test {

std::filesystem::path golden_tokenizer_dir();
// Loaded once per test process.
const engine::Tokenizer& golden_tokenizer();
// Valid UTF-8 snippets that stress the pre-tokenizer, BPE and added-token matching:
// scripts, digits, emoji, marks, odd spaces, controls, added-token strings.
const std::vector<std::string>& valid_text_pieces();
// Runs tests/engine/tokenizer_reference.mjs on `input`; throws when node or the npm
// package is missing ('npm ci' at the repository root installs it).
nlohmann::json run_reference(const nlohmann::json& input);

}  // namespace dsv4::test
