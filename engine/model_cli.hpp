#pragma once
// The model's subcommands. Exit codes: 0 done, 1 failed, 2 bad usage.
#include <string>
#include <vector>

namespace dsv4::engine {

// dsv4 logits --model DIR --ids FILE --out FILE [--prefill N] [--mtp FILE] [--threads N]
int logits_command(const std::vector<std::string>& args);
// dsv4 model synth --config FILE --out DIR [--seed N] [--dtype f32|bf16|fp8|fp4-experts] [--tokenizer DIR]
int model_command(const std::vector<std::string>& args);
// dsv4 generate --model DIR (-p PROMPT | --messages FILE) [--chat] [--thinking off|high|max] [-n N] [sampling]
int generate_command(const std::vector<std::string>& args);
// dsv4 bench engine --model DIR [--decode N] [--prefill N] [--threads N]
int bench_engine_command(const std::vector<std::string>& args);

}  // namespace dsv4::engine
