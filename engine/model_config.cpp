#include "engine/model_config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace dsv4::engine {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw std::runtime_error(where_ + ": key '" + key + "' " + what);
  }
  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  const json& at(const std::string& key) const {
    if (!has(key)) fail(key, "is missing; a DeepSeek-V4 config.json must set it");
    return j_.at(key);
  }
  int positive_int(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (1 << 30))
      fail(key, "must be a positive integer, got " + v.dump());
    return v.get<int>();
  }
  int int_or(const std::string& key, int fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1 << 30))
      fail(key, "must be a non-negative integer, got " + v.dump());
    return v.get<int>();
  }
  double number_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_number()) fail(key, "must be a number, got " + v.dump());
    return v.get<double>();
  }
  void expect(const std::string& key, const json& supported) const {
    if (has(key) && at(key) != supported)
      fail(key, "= " + at(key).dump() + " is not supported by this engine (only " + supported.dump() + ")");
  }

 private:
  const json& j_;
  std::string where_;
};

// Keys that describe training or the Python runtime and do not change the forward pass.
const std::set<std::string> kInformationalKeys = {
    "architectures", "attention_dropout", "initializer_range", "torch_dtype", "dtype", "use_cache",
    "max_position_embeddings", "transformers_version", "auto_map", "pad_token_id",
    "output_router_logits", "router_aux_loss_coef", "router_jitter_noise", "aux_loss_alpha", "ep_size",
    "seq_aux", "topk_method", "kv_lora_rank"};

// Keys this loader reads (or checks against the one value it implements).
const std::set<std::string> kModelKeys = {
    "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "qk_rope_head_dim", "q_lora_rank", "o_groups", "o_lora_rank",
    "sliding_window", "n_routed_experts", "n_shared_experts", "num_experts_per_tok",
    "moe_intermediate_size", "num_hash_layers", "routed_scaling_factor", "swiglu_limit",
    "scoring_func", "norm_topk_prob", "index_n_heads", "index_head_dim", "index_topk", "hc_mult",
    "hc_sinkhorn_iters", "hc_eps", "rms_norm_eps", "rope_theta", "compress_rope_theta",
    "rope_scaling", "num_nextn_predict_layers", "compress_ratios", "quantization_config",
    "expert_dtype", "hidden_act", "attention_bias", "mlp_bias", "tie_word_embeddings",
    "bos_token_id", "eos_token_id", "first_k_dense_replace", "n_group", "topk_group", "moe_layer_freq"};

YarnScaling read_yarn(const json& rs, const std::string& where) {
  if (!rs.is_object()) throw std::runtime_error(where + ": key 'rope_scaling' must be an object");
  Reader r(rs, where + " rope_scaling");
  for (const auto& [key, value] : rs.items()) {
    static const std::set<std::string> known = {"type", "rope_type", "factor",
                                                "original_max_position_embeddings", "beta_fast",
                                                "beta_slow", "mscale", "mscale_all_dim"};
    if (!known.count(key)) r.fail(key, "is unknown; only YaRN rope scaling is implemented");
    (void)value;
  }
  std::string type = rs.value("type", rs.value("rope_type", std::string()));
  if (type != "yarn") r.fail("type", "= \"" + type + "\" is not supported (only \"yarn\")");
  YarnScaling y;
  y.enabled = true;
  y.factor = r.number_or("factor", 0);
  y.original_max_position = r.number_or("original_max_position_embeddings", 0);
  y.beta_fast = r.number_or("beta_fast", 32);
  y.beta_slow = r.number_or("beta_slow", 1);
  if (y.factor <= 0) r.fail("factor", "must be a positive number");
  if (y.original_max_position <= 0) r.fail("original_max_position_embeddings", "must be positive");
  // The reference applies no attention/mscale factor to cos/sin, so mscale values other than 1 would
  // mean a different model.
  r.expect("mscale", 1);
  r.expect("mscale_all_dim", 1);
  return y;
}

void read_quantization(const json& q, const std::string& where) {
  if (!q.is_object()) throw std::runtime_error(where + ": key 'quantization_config' must be an object");
  Reader r(q, where + " quantization_config");
  for (const auto& [key, value] : q.items()) {
    static const std::set<std::string> known = {"quant_method", "fmt", "weight_block_size", "scale_fmt",
                                                "activation_scheme"};
    if (!known.count(key)) r.fail(key, "is unknown");
    (void)value;
  }
  r.expect("quant_method", "fp8");
  r.expect("fmt", "e4m3");
  r.expect("scale_fmt", "ue8m0");
  r.expect("weight_block_size", json::array({128, 128}));
  r.expect("activation_scheme", "dynamic");
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& where) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw std::runtime_error(where + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw std::runtime_error(where + ": config.json must hold a JSON object");
  Reader r(j, where);
  for (const auto& [key, value] : j.items()) {
    if (!kModelKeys.count(key) && !kInformationalKeys.count(key))
      r.fail(key, "is unknown to this DeepSeek-V4 engine; remove it or extend engine/model_config.cpp");
    (void)value;
  }
  if (r.at("model_type") != "deepseek_v4")
    r.fail("model_type", "= " + r.at("model_type").dump() + "; this engine runs \"deepseek_v4\" only");
  r.expect("num_key_value_heads", 1);
  r.expect("n_shared_experts", 1);
  r.expect("scoring_func", "sqrtsoftplus");
  r.expect("norm_topk_prob", true);
  r.expect("hidden_act", "silu");
  r.expect("attention_bias", false);
  r.expect("mlp_bias", false);
  r.expect("tie_word_embeddings", false);
  // V3-era keys that some V4 configs still carry: only their "every layer is a plain MoE
  // without group-limited routing" values describe this architecture.
  r.expect("first_k_dense_replace", 0);
  r.expect("n_group", 1);
  r.expect("topk_group", 1);
  r.expect("moe_layer_freq", 1);

  ModelConfig c;
  c.vocab_size = r.positive_int("vocab_size");
  c.hidden_size = r.positive_int("hidden_size");
  c.num_layers = r.positive_int("num_hidden_layers");
  c.num_heads = r.positive_int("num_attention_heads");
  c.head_dim = r.positive_int("head_dim");
  c.rope_dim = r.positive_int("qk_rope_head_dim");
  c.q_lora_rank = r.positive_int("q_lora_rank");
  c.o_groups = r.positive_int("o_groups");
  c.o_lora_rank = r.positive_int("o_lora_rank");
  c.sliding_window = r.positive_int("sliding_window");
  c.n_routed_experts = r.positive_int("n_routed_experts");
  c.experts_per_token = r.positive_int("num_experts_per_tok");
  c.moe_intermediate = r.positive_int("moe_intermediate_size");
  c.num_hash_layers = r.int_or("num_hash_layers", 0);
  c.routed_scaling = r.number_or("routed_scaling_factor", 1);
  c.swiglu_limit = r.number_or("swiglu_limit", 0);
  c.index_heads = r.positive_int("index_n_heads");
  c.index_head_dim = r.positive_int("index_head_dim");
  c.index_topk = r.positive_int("index_topk");
  c.hc_mult = r.positive_int("hc_mult");
  c.hc_sinkhorn_iters = r.positive_int("hc_sinkhorn_iters");
  c.hc_eps = r.number_or("hc_eps", 1e-6);
  c.rms_norm_eps = r.number_or("rms_norm_eps", 1e-6);
  c.rope_theta = r.number_or("rope_theta", 10000);
  c.compress_rope_theta = r.number_or("compress_rope_theta", 160000);
  if (r.has("rope_scaling")) c.yarn = read_yarn(r.at("rope_scaling"), where);
  c.num_mtp_layers = r.int_or("num_nextn_predict_layers", 0);
  if (c.num_mtp_layers > 1) r.fail("num_nextn_predict_layers", "> 1 is not supported (only 0 or 1)");
  if (r.has("quantization_config")) {
    read_quantization(r.at("quantization_config"), where);
    c.fp8_weights = true;
  }
  if (r.has("expert_dtype")) {
    r.expect("expert_dtype", "fp4");
    c.fp4_experts = true;
  }
  if (r.has("bos_token_id")) {
    if (!r.at("bos_token_id").is_number_integer()) r.fail("bos_token_id", "must be an integer");
    c.bos_token_id = r.at("bos_token_id").get<int64_t>();
  }
  if (r.has("eos_token_id")) {
    const json& e = r.at("eos_token_id");
    for (const json& v : e.is_array() ? e : json::array({e})) {
      if (!v.is_number_integer()) r.fail("eos_token_id", "must be an integer or a list of integers");
      c.eos_token_ids.push_back(v.get<int64_t>());
    }
  }

  const json& ratios = r.at("compress_ratios");
  if (!ratios.is_array()) r.fail("compress_ratios", "must be a list");
  for (const json& v : ratios) {
    if (v != 0 && v != 4 && v != 128)
      r.fail("compress_ratios", "holds " + v.dump() + "; each entry must be 0, 4 or 128");
    c.compress_ratios.push_back(v.get<int>());
  }
  if (static_cast<int>(c.compress_ratios.size()) != c.num_layers + c.num_mtp_layers)
    r.fail("compress_ratios", "has " + std::to_string(c.compress_ratios.size()) +
                                  " entries; expected num_hidden_layers + num_nextn_predict_layers = " +
                                  std::to_string(c.num_layers + c.num_mtp_layers));

  if (c.head_dim % 2 || c.rope_dim % 2 || c.rope_dim > c.head_dim)
    r.fail("qk_rope_head_dim", "must be even and at most head_dim (an even number)");
  if (c.rope_dim > c.index_head_dim) r.fail("index_head_dim", "must be at least qk_rope_head_dim");
  if (c.num_heads % c.o_groups) r.fail("o_groups", "must divide num_attention_heads");
  if (c.experts_per_token > c.n_routed_experts)
    r.fail("num_experts_per_tok", "must not exceed n_routed_experts");
  if (c.num_hash_layers > c.num_layers) r.fail("num_hash_layers", "must not exceed num_hidden_layers");
  if (c.hc_mult > 16) r.fail("hc_mult", "must be at most 16");
  if (c.swiglu_limit < 0) r.fail("swiglu_limit", "must not be negative");
  if (c.yarn.enabled && c.yarn.beta_fast <= c.yarn.beta_slow)
    r.fail("rope_scaling", "needs beta_fast > beta_slow");
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& config_json) {
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw std::runtime_error(config_json.string() + ": cannot open the model's config.json");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_model_config(text.str(), config_json.string());
}

}  // namespace dsv4::engine
