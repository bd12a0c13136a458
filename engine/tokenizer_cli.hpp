#pragma once
// The tokenizer's subcommands. Exit codes: 0 done, 1 failed, 2 bad usage.
#include <string>
#include <vector>

namespace dsv4::engine {

// dsv4 tokenize --tokenizer DIR (--text T | --file F) [--add-special]
int tokenize_command(const std::vector<std::string>& args);
// dsv4 detokenize --tokenizer DIR --ids JSON [--skip-special]
int detokenize_command(const std::vector<std::string>& args);
// dsv4 bench tokenize [--tokenizer DIR] [--corpus FILE] [--mb N] [--runs N]
int bench_tokenize_command(const std::vector<std::string>& args);

}  // namespace dsv4::engine
