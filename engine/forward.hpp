#pragma once
// The DeepSeek-V4 forward pass on the CPU in float32 (ARCHITECTURE-NOTES.md §1-§10). A call
// consumes a chunk of tokens at positions state.pos, state.pos+1, ...; a full pass is one chunk
// from an empty state, decoding is chunks of one token.
#include <cstdint>
#include <map>
#include <vector>

#include "engine/kv_state.hpp"
#include "engine/model_weights.hpp"

namespace dsv4::engine {

struct ForwardOutput {
  std::vector<float> logits;   // [n, vocab] (when requested)
  std::vector<float> streams;  // [n, hc_mult, D] final hyper-connection streams (when requested)
  // layer -> per query, the compressed entries its indexer chose (when requested)
  std::map<int, std::vector<std::vector<int>>> indexer_picks;
};

struct ForwardRequest {
  bool logits = true;
  // Only the chunk's last row of logits ([1, vocab]): all a prefill before sampling needs,
  // and a long prompt's full [n, vocab] would cost gigabytes.
  bool last_logits_only = false;
  bool streams = false;
  bool indexer_picks = false;
};

ForwardOutput forward(const ModelWeights& model, DecodeState& state, const std::vector<int32_t>& ids,
                      const ForwardRequest& want = {});

// MTP (§10): row i combines the main model's final streams at position state.mtp_pos + i with the
// next token next_ids[i]; returns the MTP logits [n, vocab] (predictions two tokens ahead).
std::vector<float> forward_mtp(const ModelWeights& model, DecodeState& state, const std::vector<float>& streams,
                               const std::vector<int32_t>& next_ids);

}  // namespace dsv4::engine
