#include "engine/model_synth.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "engine/model_config.hpp"
#include "engine/quant.hpp"

namespace dsv4::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The written file on disk (so the rename that publishes it cannot expose a partial one after a
// crash), and out of the page cache: its pages were cached in 4 KiB folios as written, and a
// checkpoint read back from disk comes in 2 MiB ones, which decoding streams faster.
void flush_and_uncache(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(file.string() + ": cannot reopen: " + std::strerror(errno));
  const bool synced = ::fdatasync(fd) == 0;
  const int err = errno;
  if (synced) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  if (!synced) throw std::runtime_error(file.string() + ": fdatasync failed: " + std::strerror(err));
}

// What a tensor is, which decides both its random distribution and its stored dtype.
enum class Kind { Linear, Expert, Bf16Matrix, Embed, Norm, HcFn, HcBase, HcScale, Sink, Ape, GateBias, Tid2eid };

struct Spec {
  std::string name;  // without .weight for matrices
  Kind kind;
  std::vector<int64_t> shape;
};

std::vector<Spec> tensor_specs(const ModelConfig& c) {
  const int64_t D = c.hidden_size, H = c.num_heads, d = c.head_dim, Q = c.q_lora_rank, G = c.o_groups, R = c.o_lora_rank;
  const int64_t E = c.n_routed_experts, I = c.moe_intermediate, n = c.hc_mult, mixes = (2 + n) * n;
  std::vector<Spec> s;
  auto compressor = [&](const std::string& p, int ratio, int64_t dim) {
    const int64_t w = ratio == 4 ? 2 * dim : dim;
    s.push_back({p + ".wkv", Kind::Bf16Matrix, {w, D}});
    s.push_back({p + ".wgate", Kind::Bf16Matrix, {w, D}});
    s.push_back({p + ".ape", Kind::Ape, {ratio, w}});
    s.push_back({p + ".norm", Kind::Norm, {dim}});
  };
  auto block = [&](const std::string& p, int ratio, bool hash) {
    for (const char* hc : {".hc_attn", ".hc_ffn"}) {
      s.push_back({p + hc + "_fn", Kind::HcFn, {mixes, n * D}});
      s.push_back({p + hc + "_base", Kind::HcBase, {mixes}});
      s.push_back({p + hc + "_scale", Kind::HcScale, {3}});
    }
    s.push_back({p + ".attn_norm", Kind::Norm, {D}});
    s.push_back({p + ".ffn_norm", Kind::Norm, {D}});
    const std::string a = p + ".attn";
    s.push_back({a + ".wq_a", Kind::Linear, {Q, D}});
    s.push_back({a + ".wq_b", Kind::Linear, {H * d, Q}});
    s.push_back({a + ".wkv", Kind::Linear, {d, D}});
    s.push_back({a + ".wo_a", Kind::Linear, {G * R, H * d / G}});
    s.push_back({a + ".wo_b", Kind::Linear, {D, G * R}});
    s.push_back({a + ".q_norm", Kind::Norm, {Q}});
    s.push_back({a + ".kv_norm", Kind::Norm, {d}});
    s.push_back({a + ".attn_sink", Kind::Sink, {H}});
    if (ratio) compressor(a + ".compressor", ratio, d);
    if (ratio == 4) {
      s.push_back({a + ".indexer.wq_b", Kind::Linear, {int64_t{c.index_heads} * c.index_head_dim, Q}});
      s.push_back({a + ".indexer.weights_proj", Kind::Bf16Matrix, {c.index_heads, D}});
      compressor(a + ".indexer.compressor", 4, c.index_head_dim);
    }
    const std::string f = p + ".ffn";
    s.push_back({f + ".gate", Kind::Bf16Matrix, {E, D}});
    if (hash) s.push_back({f + ".gate.tid2eid", Kind::Tid2eid, {c.vocab_size, c.experts_per_token}});
    else s.push_back({f + ".gate.bias", Kind::GateBias, {E}});
    for (int64_t e = 0; e < E; ++e)
      for (const char* w : {".w1", ".w2", ".w3"}) {
        const bool down = std::string(w) == ".w2";
        s.push_back({f + ".experts." + std::to_string(e) + w, Kind::Expert, {down ? D : I, down ? I : D}});
      }
    for (const char* w : {".w1", ".w2", ".w3"}) {
      const bool down = std::string(w) == ".w2";
      s.push_back({f + ".shared_experts" + w, Kind::Linear, {down ? D : I, down ? I : D}});
    }
  };
  s.push_back({"embed", Kind::Embed, {c.vocab_size, D}});
  s.push_back({"head", Kind::Bf16Matrix, {c.vocab_size, D}});
  s.push_back({"norm", Kind::Norm, {D}});
  s.push_back({"hc_head_fn", Kind::HcFn, {n, n * D}});
  s.push_back({"hc_head_base", Kind::HcBase, {n}});
  s.push_back({"hc_head_scale", Kind::HcScale, {1}});
  for (int l = 0; l < c.num_layers; ++l) block("layers." + std::to_string(l), c.compress_ratio(l), l < c.num_hash_layers);
  if (c.num_mtp_layers) {
    s.push_back({"mtp.0.e_proj", Kind::Linear, {D, D}});
    s.push_back({"mtp.0.h_proj", Kind::Linear, {D, D}});
    for (const char* nm : {"mtp.0.enorm", "mtp.0.hnorm", "mtp.0.norm"}) s.push_back({nm, Kind::Norm, {D}});
    s.push_back({"mtp.0.hc_head_fn", Kind::HcFn, {n, n * D}});
    s.push_back({"mtp.0.hc_head_base", Kind::HcBase, {n}});
    s.push_back({"mtp.0.hc_head_scale", Kind::HcScale, {1}});
    block("mtp.0", c.compress_ratio(c.num_layers), false);
  }
  return s;
}

// Stored form of one spec: dtype names of the weight (and scale) tensors.
struct Stored {
  std::string dtype;        // F32, BF16, F8_E4M3, I8 (packed FP4), I32, I64
  bool matrix_name = false;  // stored as <name>.weight
};

Stored stored_form(Kind k, SynthDtype t) {
  switch (k) {
    case Kind::Tid2eid: return {t == SynthDtype::F32 ? "I32" : "I64", false};
    case Kind::HcFn: case Kind::HcBase: case Kind::HcScale: case Kind::Sink: case Kind::Ape: case Kind::GateBias:
      return {"F32", false};
    case Kind::Norm: return {t == SynthDtype::F32 ? "F32" : "BF16", true};
    case Kind::Embed: case Kind::Bf16Matrix: return {t == SynthDtype::F32 ? "F32" : "BF16", true};
    case Kind::Linear: return {t == SynthDtype::F32 ? "F32" : t == SynthDtype::BF16 ? "BF16" : "F8_E4M3", true};
    case Kind::Expert:
      return {t == SynthDtype::F32 ? "F32" : t == SynthDtype::BF16 ? "BF16" : t == SynthDtype::FP8 ? "F8_E4M3" : "I8", true};
  }
  return {"F32", false};
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  float normal() {  // Box-Muller
    const double u = 1 - uniform(), v = uniform();
    return static_cast<float>(std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v));
  }

 private:
  uint64_t s_;
};

uint64_t name_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
  return h;
}

std::vector<float> random_values(const Spec& sp, Rng& rng) {
  int64_t n = 1;
  for (int64_t d : sp.shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  float mean = 0, sd = 0.1f;
  switch (sp.kind) {
    case Kind::Linear: case Kind::Expert: case Kind::Bf16Matrix:
      sd = 0.7f / std::sqrt(static_cast<float>(sp.shape[1]));
      break;
    case Kind::Embed: sd = 1; break;
    case Kind::Norm: case Kind::HcScale: mean = 1; break;
    case Kind::Sink: sd = 0.5f; break;
    case Kind::Ape: sd = 0.2f; break;
    default: break;
  }
  for (float& x : v) x = mean + sd * rng.normal();
  return v;
}

template <class T>
void append(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Smallest power of two s with max|block| / s <= limit, as a UE8M0 byte.
uint8_t scale_byte(float maxabs, float limit) {
  if (maxabs == 0) return 127;
  int e = static_cast<int>(std::ceil(std::log2(maxabs / limit)));
  return static_cast<uint8_t>(std::clamp(127 + e, 1, 254));
}

// Produces the stored bytes of one float spec: weight bytes and, when quantized, scale bytes.
void encode(const Spec& sp, const Stored& st, Rng& rng, std::string& weight, std::string& scale) {
  weight.clear();
  scale.clear();
  const std::vector<float> v = random_values(sp, rng);
  if (st.dtype == "F32") {
    weight.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  } else if (st.dtype == "BF16") {
    for (float x : v) append<uint16_t>(weight, float_to_bf16(x));
  } else if (st.dtype == "F8_E4M3") {
    const int64_t out = sp.shape[0], in = sp.shape[1], bo = (out + 127) / 128, bi = (in + 127) / 128;
    std::vector<uint8_t> sb(static_cast<size_t>(bo * bi));
    for (int64_t br = 0; br < bo; ++br)
      for (int64_t bk = 0; bk < bi; ++bk) {
        float mx = 0;
        for (int64_t r = br * 128; r < std::min(out, br * 128 + 128); ++r)
          for (int64_t k = bk * 128; k < std::min(in, bk * 128 + 128); ++k) mx = std::max(mx, std::fabs(v[r * in + k]));
        sb[br * bi + bk] = scale_byte(mx, 448);
      }
    weight.resize(v.size());
    for (int64_t r = 0; r < out; ++r)
      for (int64_t k = 0; k < in; ++k)
        weight[r * in + k] = static_cast<char>(float_to_e4m3(v[r * in + k] / e8m0_to_float(sb[(r / 128) * bi + k / 128])));
    scale.assign(sb.begin(), sb.end());
  } else {  // I8: packed FP4 with per-32 scales
    const int64_t out = sp.shape[0], in = sp.shape[1];
    weight.resize(static_cast<size_t>(out * in / 2));
    for (int64_t r = 0; r < out; ++r)
      for (int64_t g = 0; g < in / 32; ++g) {
        float mx = 0;
        for (int k = 0; k < 32; ++k) mx = std::max(mx, std::fabs(v[r * in + g * 32 + k]));
        const uint8_t sb = scale_byte(mx, 6);
        scale.push_back(static_cast<char>(sb));
        const float inv = 1 / e8m0_to_float(sb);
        for (int k = 0; k < 32; k += 2) {
          const uint8_t lo = float_to_e2m1(v[r * in + g * 32 + k] * inv), hi = float_to_e2m1(v[r * in + g * 32 + k + 1] * inv);
          weight[r * in / 2 + g * 16 + k / 2] = static_cast<char>(lo | (hi << 4));
        }
      }
  }
}

// Nearest code among the non-negative codes 0..n-1 of a monotonic table, ties to the even code.
uint8_t nearest_code(float a, int n, float (*decode)(uint8_t)) {
  int best = 0;
  float best_err = INFINITY;
  for (int c = 0; c < n; ++c) {
    const float err = std::fabs(decode(static_cast<uint8_t>(c)) - a);
    if (err < best_err || (err == best_err && c % 2 == 0)) {
      best = c;
      best_err = err;
    }
  }
  return static_cast<uint8_t>(best);
}

}  // namespace

uint16_t float_to_bf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

uint8_t float_to_e4m3(float v) {
  static const std::vector<float> table = [] {
    std::vector<float> t;
    for (int c = 0; c < 127; ++c) t.push_back(e4m3_to_float(static_cast<uint8_t>(c)));
    return t;
  }();
  const float a = std::min(std::fabs(v), 448.0f);
  // Binary search the monotonic table, then settle the tie between the two neighbours.
  const auto it = std::lower_bound(table.begin(), table.end(), a);
  int hi = static_cast<int>(it - table.begin());
  if (hi >= 127) hi = 126;
  int c = hi;
  if (hi > 0) {
    const float dl = a - table[hi - 1], dh = table[hi] - a;
    if (dl < dh || (dl == dh && (hi - 1) % 2 == 0)) c = hi - 1;
  }
  return static_cast<uint8_t>(c | (std::signbit(v) ? 0x80 : 0));
}

uint8_t float_to_e2m1(float v) {
  const uint8_t c = nearest_code(std::min(std::fabs(v), 6.0f), 8, e2m1_to_float);
  return static_cast<uint8_t>(c | (std::signbit(v) ? 8 : 0));
}

SynthDtype parse_synth_dtype(const std::string& name) {
  if (name == "f32") return SynthDtype::F32;
  if (name == "bf16") return SynthDtype::BF16;
  if (name == "fp8") return SynthDtype::FP8;
  if (name == "fp4-experts") return SynthDtype::FP4Experts;
  throw std::invalid_argument("--dtype '" + name + "' is not one of f32, bf16, fp8, fp4-experts");
}

void synth_model(const fs::path& config_json, const fs::path& out_dir, uint64_t seed, SynthDtype dtype) {
  const ModelConfig c = load_model_config(config_json);
  json cfg;
  {
    std::ifstream in(config_json);
    cfg = json::parse(in);
  }
  cfg.erase("quantization_config");
  cfg.erase("expert_dtype");
  if (dtype == SynthDtype::FP8 || dtype == SynthDtype::FP4Experts)
    cfg["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"scale_fmt", "ue8m0"},
                                  {"weight_block_size", {128, 128}}, {"activation_scheme", "dynamic"}};
  if (dtype == SynthDtype::FP4Experts) cfg["expert_dtype"] = "fp4";
  const std::vector<Spec> specs = tensor_specs(c);
  for (const Spec& sp : specs)
    if (stored_form(sp.kind, dtype).dtype == "I8" && sp.shape[1] % 32)
      throw std::runtime_error("synth: FP4 experts need input dimensions divisible by 32; " + sp.name + " has " + std::to_string(sp.shape[1]));

  // Header first: every stored tensor's dtype, shape and byte range, in spec order.
  json header = json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  auto add = [&](const std::string& name, const std::string& dt, std::vector<int64_t> shape, uint64_t bytes) {
    header[name] = {{"dtype", dt}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  };
  for (const Spec& sp : specs) {
    const Stored st = stored_form(sp.kind, dtype);
    int64_t n = 1;
    for (int64_t d : sp.shape) n *= d;
    const std::string wname = st.matrix_name ? sp.name + ".weight" : sp.name;
    if (st.dtype == "F8_E4M3") {
      add(wname, st.dtype, sp.shape, n);
      add(sp.name + ".scale", "F8_E8M0", {(sp.shape[0] + 127) / 128, (sp.shape[1] + 127) / 128},
          ((sp.shape[0] + 127) / 128) * ((sp.shape[1] + 127) / 128));
    } else if (st.dtype == "I8") {
      add(wname, st.dtype, {sp.shape[0], sp.shape[1] / 2}, n / 2);
      add(sp.name + ".scale", "F8_E8M0", {sp.shape[0], sp.shape[1] / 32}, n / 32);
    } else {
      const uint64_t size = st.dtype == "BF16" ? 2 : st.dtype == "I64" ? 8 : 4;
      add(wname, st.dtype, sp.shape, n * size);
    }
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';

  fs::create_directories(out_dir);
  const fs::path tmp = out_dir / ("model.safetensors.tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    std::string prefix;
    append<uint64_t>(prefix, h.size());
    out << prefix << h;
    std::string w, s;
    for (const Spec& sp : specs) {
      Rng rng(seed * 0x100000001b3ULL ^ name_hash(sp.name));
      const Stored st = stored_form(sp.kind, dtype);
      if (sp.kind != Kind::Tid2eid) {
        encode(sp, st, rng, w, s);
      } else {  // distinct experts per token id
        w.clear();
        s.clear();
        for (int64_t r = 0; r < sp.shape[0]; ++r) {
          std::vector<int64_t> chosen;
          while (static_cast<int64_t>(chosen.size()) < sp.shape[1]) {
            const int64_t e = static_cast<int64_t>(rng.next() % static_cast<uint64_t>(c.n_routed_experts));
            if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);
          }
          for (int64_t e : chosen) st.dtype == "I32" ? append<int32_t>(w, static_cast<int32_t>(e)) : append<int64_t>(w, e);
        }
      }
      out << w << s;
    }
    if (!out.flush()) throw std::runtime_error(tmp.string() + ": write failed (disk full?)");
  }
  flush_and_uncache(tmp);
  fs::rename(tmp, out_dir / "model.safetensors");
  std::ofstream(out_dir / "config.json") << cfg.dump(2) << "\n";
}

}  // namespace dsv4::engine
