#pragma once
// Token generation: prefill a prompt, then sample one token at a time until a stop token, the
// token limit, or the caller says stop.
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/forward.hpp"
#include "engine/sampling.hpp"

namespace dsv4::engine {

struct GenerateOptions {
  SamplingParams sampling;
  int max_tokens = 256;
  std::vector<int32_t> stop_ids;  // generation ends after emitting one of these
};

struct GenerateHooks {
  // Called with each generated token; return false to stop.
  std::function<bool(int32_t)> on_token;
  // Asked before each token: true forces the argmax (e.g. inside DSML tool-call markup).
  std::function<bool()> force_greedy;
};

// Continues `state` with `prompt` and generates; returns the generated ids.
std::vector<int32_t> generate(const ModelWeights& model, DecodeState& state, const std::vector<int32_t>& prompt,
                              const GenerateOptions& options, const GenerateHooks& hooks = {});

}  // namespace dsv4::engine
