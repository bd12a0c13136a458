#include "engine/generate.hpp"

#include <algorithm>
#include <stdexcept>

namespace dsv4::engine {

std::vector<int32_t> generate(const ModelWeights& model, DecodeState& state, const std::vector<int32_t>& prompt,
                              const GenerateOptions& options, const GenerateHooks& hooks) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  Sampler sampler(options.sampling);
  const int vocab = model.config.vocab_size;
  std::vector<float> logits = forward(model, state, prompt, {.last_logits_only = true}).logits;
  std::vector<int32_t> out;
  const float* last = logits.data();
  while (static_cast<int>(out.size()) < options.max_tokens) {
    const bool greedy = hooks.force_greedy && hooks.force_greedy();
    const int32_t id = sampler.next(last, vocab, greedy);
    out.push_back(id);
    if (hooks.on_token && !hooks.on_token(id)) break;
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), id) != options.stop_ids.end()) break;
    if (static_cast<int>(out.size()) == options.max_tokens) break;
    logits = forward(model, state, {id}).logits;
    last = logits.data();
  }
  return out;
}

}  // namespace dsv4::engine
