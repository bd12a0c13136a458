#pragma once
// The DeepSeek-V4 weights, bound by their official checkpoint names. Large matrices stay in the
// mapped checkpoint in their stored format; small vectors are converted to float32.
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "engine/model_config.hpp"
#include "engine/quant.hpp"
#include "engine/safetensors.hpp"

namespace dsv4::engine {

struct Compressor {
  int ratio = 0;     // 4 (overlapping windows) or 128
  int dim = 0;       // dc: head_dim for the main compressor, index_head_dim for the indexer's
  Linear wkv, wgate;  // [coff * dc, D], coff = 2 when ratio == 4
  std::vector<float> ape;   // [ratio, coff * dc]
  std::vector<float> norm;  // [dc]
  int width() const { return ratio == 4 ? 2 * dim : dim; }
};

struct Indexer {
  Linear wq_b;          // [nI * c, Q]
  Linear weights_proj;  // [nI, D]
  Compressor compressor;
};

struct AttentionWeights {
  int ratio = 0;
  Linear wq_a, wq_b, wkv, wo_a, wo_b;
  std::vector<float> q_norm, kv_norm, sink;
  std::optional<Compressor> compressor;  // ratio 4 and 128
  std::optional<Indexer> indexer;        // ratio 4
};

struct Expert {
  Linear w1, w2, w3;
};

struct MoeWeights {
  bool hash_routed = false;
  Linear gate;                   // [E, D]
  std::vector<float> gate_bias;  // [E], score-routed layers
  std::vector<int32_t> tid2eid;  // [vocab, K], hash-routed layers
  std::vector<Expert> experts;
  Expert shared;
};

struct HyperConnection {
  std::vector<float> fn, base, scale;  // [(2+n)*n, n*D], [(2+n)*n], [3]
};

struct BlockWeights {
  HyperConnection hc_attn, hc_ffn;
  std::vector<float> attn_norm, ffn_norm;
  AttentionWeights attn;
  MoeWeights moe;
};

struct HeadMix {
  std::vector<float> fn, base, scale;  // [n, n*D], [n], [1]
};

struct MtpWeights {
  Linear e_proj, h_proj;
  std::vector<float> enorm, hnorm, norm;
  BlockWeights block;
  HeadMix head;
};

struct ModelWeights {
  ModelConfig config;
  Checkpoint checkpoint;
  Linear embed, head;  // [vocab, D]
  std::vector<float> norm;
  HeadMix hc_head;
  std::vector<BlockWeights> layers;
  std::optional<MtpWeights> mtp;

  size_t stored_bytes() const;
};

// Loads config.json and the safetensors of `dir`; every expected tensor must be present with
// its expected shape (errors name the tensor).
std::unique_ptr<ModelWeights> load_model(const std::filesystem::path& dir);

}  // namespace dsv4::engine
