#include "engine/model_weights.hpp"

#include <malloc.h>

#include <string>

namespace dsv4::engine {
namespace {

class Binder {
 public:
  Binder(const Checkpoint& ck, const ModelConfig& c) : ck_(ck), c_(c) {}

  Compressor compressor(const std::string& p, int ratio, int dim) const {
    Compressor k;
    k.ratio = ratio;
    k.dim = dim;
    const int w = k.width();
    k.wkv = load_linear(ck_, p + ".wkv", w, c_.hidden_size);
    k.wgate = load_linear(ck_, p + ".wgate", w, c_.hidden_size);
    k.ape = load_floats(ck_, p + ".ape", static_cast<int64_t>(ratio) * w);
    k.norm = load_floats(ck_, p + ".norm.weight", dim);
    return k;
  }

  AttentionWeights attention(const std::string& p, int ratio) const {
    const int D = c_.hidden_size, H = c_.num_heads, d = c_.head_dim, Q = c_.q_lora_rank;
    const int G = c_.o_groups, R = c_.o_lora_rank;
    AttentionWeights a;
    a.ratio = ratio;
    a.wq_a = load_linear(ck_, p + ".wq_a", Q, D);
    a.wq_b = load_linear(ck_, p + ".wq_b", H * d, Q);
    a.wkv = load_linear(ck_, p + ".wkv", d, D);
    a.wo_a = load_linear(ck_, p + ".wo_a", G * R, H * d / G);
    a.wo_b = load_linear(ck_, p + ".wo_b", D, G * R);
    a.q_norm = load_floats(ck_, p + ".q_norm.weight", Q);
    a.kv_norm = load_floats(ck_, p + ".kv_norm.weight", d);
    a.sink = load_floats(ck_, p + ".attn_sink", H);
    if (ratio) a.compressor = compressor(p + ".compressor", ratio, d);
    if (ratio == 4) {
      Indexer ix;
      ix.wq_b = load_linear(ck_, p + ".indexer.wq_b", c_.index_heads * c_.index_head_dim, Q);
      ix.weights_proj = load_linear(ck_, p + ".indexer.weights_proj", c_.index_heads, D);
      ix.compressor = compressor(p + ".indexer.compressor", 4, c_.index_head_dim);
      a.indexer = std::move(ix);
    }
    return a;
  }

  Expert expert(const std::string& p) const {
    const int D = c_.hidden_size, I = c_.moe_intermediate;
    return {load_linear(ck_, p + ".w1", I, D), load_linear(ck_, p + ".w2", D, I), load_linear(ck_, p + ".w3", I, D)};
  }

  MoeWeights moe(const std::string& p, bool hash) const {
    MoeWeights m;
    m.hash_routed = hash;
    m.gate = load_linear(ck_, p + ".gate", c_.n_routed_experts, c_.hidden_size);
    if (hash) m.tid2eid = load_ints(ck_, p + ".gate.tid2eid", c_.vocab_size, c_.experts_per_token);
    else m.gate_bias = load_floats(ck_, p + ".gate.bias", c_.n_routed_experts);
    for (int32_t e : m.tid2eid)
      if (e >= c_.n_routed_experts)
        throw std::runtime_error("checkpoint: " + p + ".gate.tid2eid names expert " + std::to_string(e) +
                                 " but the model has " + std::to_string(c_.n_routed_experts));
    for (int e = 0; e < c_.n_routed_experts; ++e) m.experts.push_back(expert(p + ".experts." + std::to_string(e)));
    m.shared = expert(p + ".shared_experts");
    return m;
  }

  HyperConnection hc(const std::string& p) const {
    const int n = c_.hc_mult, mixes = (2 + n) * n;
    return {load_floats(ck_, p + "_fn", static_cast<int64_t>(mixes) * n * c_.hidden_size),
            load_floats(ck_, p + "_base", mixes), load_floats(ck_, p + "_scale", 3)};
  }

  HeadMix head(const std::string& p) const {
    const int n = c_.hc_mult;
    return {load_floats(ck_, p + "_fn", static_cast<int64_t>(n) * n * c_.hidden_size), load_floats(ck_, p + "_base", n),
            load_floats(ck_, p + "_scale", 1)};
  }

  BlockWeights block(const std::string& p, int ratio, bool hash) const {
    BlockWeights b;
    b.hc_attn = hc(p + ".hc_attn");
    b.hc_ffn = hc(p + ".hc_ffn");
    b.attn_norm = load_floats(ck_, p + ".attn_norm.weight", c_.hidden_size);
    b.ffn_norm = load_floats(ck_, p + ".ffn_norm.weight", c_.hidden_size);
    b.attn = attention(p + ".attn", ratio);
    b.moe = moe(p + ".ffn", hash);
    return b;
  }

 private:
  const Checkpoint& ck_;
  const ModelConfig& c_;
};

// The forward pass allocates its intermediates afresh in each layer, up to hundreds of MB in a
// long prefill chunk. Past glibc's mmap threshold (32 MB at most) each was a new mapping, every
// page faulted in and unmapped again: 20-35% of a prefill. With the threshold raised the heap
// keeps and reuses them (up to 1 GB stays with the process between calls).
void keep_large_allocations_in_the_heap() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace

size_t ModelWeights::stored_bytes() const { return checkpoint.mapped_bytes(); }

std::unique_ptr<ModelWeights> load_model(const std::filesystem::path& dir) {
  keep_large_allocations_in_the_heap();
  auto m = std::make_unique<ModelWeights>(ModelWeights{load_model_config(dir / "config.json"), Checkpoint::open(dir), {}, {}, {}, {}, {}, {}});
  const ModelConfig& c = m->config;
  Binder bind(m->checkpoint, c);
  m->embed = load_linear(m->checkpoint, "embed", c.vocab_size, c.hidden_size);
  m->head = load_linear(m->checkpoint, "head", c.vocab_size, c.hidden_size);
  m->norm = load_floats(m->checkpoint, "norm.weight", c.hidden_size);
  m->hc_head = bind.head("hc_head");
  for (int l = 0; l < c.num_layers; ++l)
    m->layers.push_back(bind.block("layers." + std::to_string(l), c.compress_ratio(l), l < c.num_hash_layers));
  if (c.num_mtp_layers) {
    MtpWeights t;
    const ModelConfig& cc = c;
    t.e_proj = load_linear(m->checkpoint, "mtp.0.e_proj", cc.hidden_size, cc.hidden_size);
    t.h_proj = load_linear(m->checkpoint, "mtp.0.h_proj", cc.hidden_size, cc.hidden_size);
    t.enorm = load_floats(m->checkpoint, "mtp.0.enorm.weight", cc.hidden_size);
    t.hnorm = load_floats(m->checkpoint, "mtp.0.hnorm.weight", cc.hidden_size);
    t.norm = load_floats(m->checkpoint, "mtp.0.norm.weight", cc.hidden_size);
    t.block = bind.block("mtp.0", cc.compress_ratio(cc.num_layers), false);
    t.head = bind.head("mtp.0.hc_head");
    m->mtp = std::move(t);
  }
  return m;
}

}  // namespace dsv4::engine
