#pragma once
// The DeepSeek-V4 model shape as read from a Hugging Face config.json.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dsv4::engine {

struct YarnScaling {
  bool enabled = false;
  double factor = 1;
  double original_max_position = 0;
  double beta_fast = 32;
  double beta_slow = 1;
};

struct ModelConfig {
  int vocab_size = 0;
  int hidden_size = 0;             // D
  int num_layers = 0;              // main decoder layers (MTP not included)
  int num_heads = 0;               // H
  int head_dim = 0;                // d
  int rope_dim = 0;                // r, the last r channels of a head are rotated
  int q_lora_rank = 0;             // Q
  int o_groups = 0;                // G
  int o_lora_rank = 0;             // R
  int sliding_window = 0;          // W
  int n_routed_experts = 0;        // E
  int experts_per_token = 0;       // K
  int moe_intermediate = 0;        // I
  int num_hash_layers = 0;
  double routed_scaling = 1;
  double swiglu_limit = 0;         // 0 = no clamp
  int index_heads = 0;             // nI
  int index_head_dim = 0;          // c
  int index_topk = 0;              // kI
  int hc_mult = 0;                 // n
  int hc_sinkhorn_iters = 0;
  double hc_eps = 0;
  double rms_norm_eps = 0;
  double rope_theta = 0;
  double compress_rope_theta = 0;
  YarnScaling yarn;
  int num_mtp_layers = 0;          // 0 or 1
  std::vector<int> compress_ratios;  // num_layers + num_mtp_layers entries: 0, 4 or 128
  bool fp8_weights = false;          // quantization_config present (fp8 e4m3, ue8m0, 128x128)
  bool fp4_experts = false;          // expert_dtype fp4
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;

  int compress_ratio(int layer) const { return compress_ratios.at(layer); }
};

// Parses and validates config.json text; `where` names the source in errors. An unknown key, a
// missing required key or a value this engine does not implement throws naming the key.
ModelConfig parse_model_config(const std::string& json_text, const std::string& where);
ModelConfig load_model_config(const std::filesystem::path& config_json);

}  // namespace dsv4::engine
