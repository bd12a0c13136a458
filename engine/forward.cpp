#include "engine/forward.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "engine/forward_matmul.hpp"

namespace dsv4::engine {
namespace {

using Vec = std::vector<float>;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// x <- x * rsqrt(mean(x^2) + eps) * w (w may be null: no weight).
void rms_norm(float* x, int n, const float* w, float eps) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float r = 1.0f / std::sqrt(static_cast<float>(ss / n) + eps);
  for (int i = 0; i < n; ++i) x[i] = w ? x[i] * r * w[i] : x[i] * r;
}

void rms_norm_rows(Vec& x, int width, const Vec& w, float eps) {
  for (size_t r = 0; r < x.size() / width; ++r) rms_norm(x.data() + r * width, width, w.data(), eps);
}

// The rotation of one position: cos and sin of pos * f_i, computed once for all the heads
// rotated there (a decoding step rotates some 200 vectors of each layer at one position).
struct Rotation {
  Vec cos, sin;

  // Rotates the last 2 * cos.size() channels of x[0..width) by the angles (sign -1: back),
  // pairs interleaved.
  void apply(float* x, int width, float sign = 1) const {
    const int pairs = static_cast<int>(cos.size());
    float* p = x + width - 2 * pairs;
    for (int i = 0; i < pairs; ++i) {
      const float c = cos[i], s = sign * sin[i];
      const float u = p[2 * i], v = p[2 * i + 1];
      p[2 * i] = u * c - v * s;
      p[2 * i + 1] = u * s + v * c;
    }
  }
};

// Rotary frequencies of one attention type (§5).
struct Rope {
  Vec freq;  // [r/2]

  Rotation at(int64_t pos) const {
    Rotation r;
    const float fpos = static_cast<float>(pos);
    for (const float f : freq) {
      const float a = fpos * f;
      r.cos.push_back(std::cos(a));
      r.sin.push_back(std::sin(a));
    }
    return r;
  }
};

Rope make_rope(int r, double base, const YarnScaling* yarn) {
  Rope rope;
  for (int i = 0; i < r / 2; ++i) rope.freq.push_back(static_cast<float>(1.0 / std::pow(base, 2.0 * i / r)));
  if (yarn && yarn->enabled) {
    const double two_pi = 2 * M_PI;
    double lo = std::floor(r * std::log(yarn->original_max_position / (yarn->beta_fast * two_pi)) / (2 * std::log(base)));
    double hi = std::ceil(r * std::log(yarn->original_max_position / (yarn->beta_slow * two_pi)) / (2 * std::log(base)));
    lo = std::max(lo, 0.0);
    hi = std::min(hi, r - 1.0);
    if (lo == hi) hi += 0.001;
    for (int i = 0; i < r / 2; ++i) {
      const float t = static_cast<float>(std::clamp((i - lo) / (hi - lo), 0.0, 1.0));
      const float f = rope.freq[i];
      rope.freq[i] = f / static_cast<float>(yarn->factor) * t + f * (1 - t);
    }
  }
  return rope;
}

struct Ctx {
  const ModelWeights& m;
  const ModelConfig& c;
  Rope main_rope, compress_rope;
  float eps;

  explicit Ctx(const ModelWeights& mw)
      : m(mw), c(mw.config), main_rope(make_rope(c.rope_dim, c.rope_theta, nullptr)),
        compress_rope(make_rope(c.rope_dim, c.compress_rope_theta, &c.yarn)), eps(static_cast<float>(c.rms_norm_eps)) {}
  const Rope& rope(int ratio) const { return ratio ? compress_rope : main_rope; }
};

// §2: mixes the n streams of each token into one block input; returns post [n] and M [n*n].
void hc_pre(const Ctx& cx, const HyperConnection& hc, const float* X, int ntok, Vec& x, Vec& post, Vec& M) {
  const int n = cx.c.hc_mult, D = cx.c.hidden_size, nD = n * D, mixes = (2 + n) * n;
  const float heps = static_cast<float>(cx.c.hc_eps);
  x.assign(static_cast<size_t>(ntok) * D, 0);
  post.resize(static_cast<size_t>(ntok) * n);
  M.resize(static_cast<size_t>(ntok) * n * n);
  // fn @ f for every token as one product: split over threads when decoding, and fn (1.5 MB at
  // Flash's size) is expanded once per block of tokens instead of read again for each token.
  Linear fn;
  fn.out = mixes;
  fn.in = nD;
  fn.data = reinterpret_cast<const uint8_t*>(hc.fn.data());
  Vec raw(static_cast<size_t>(ntok) * mixes);
  matmul(fn, X, ntok, raw.data());
  parallel_for(ntok, [&](size_t b, size_t e) {
    Vec mix(mixes);
    for (size_t t = b; t < e; ++t) {
      const float* f = X + t * nD;
      double ss = 0;
      for (int i = 0; i < nD; ++i) ss += static_cast<double>(f[i]) * f[i];
      const float r = 1.0f / std::sqrt(static_cast<float>(ss / nD) + cx.eps);
      for (int j = 0; j < mixes; ++j) mix[j] = raw[t * mixes + j] * r;
      float* pt = post.data() + t * n;
      float* Mt = M.data() + t * n * n;
      float pre[16];
      for (int i = 0; i < n; ++i) {
        pre[i] = sigmoid(mix[i] * hc.scale[0] + hc.base[i]) + heps;
        pt[i] = 2 * sigmoid(mix[n + i] * hc.scale[1] + hc.base[n + i]);
      }
      for (int j = 0; j < n; ++j) {
        float* row = Mt + j * n;
        float mx = -INFINITY;
        for (int k = 0; k < n; ++k) {
          row[k] = mix[2 * n + j * n + k] * hc.scale[2] + hc.base[2 * n + j * n + k];
          mx = std::max(mx, row[k]);
        }
        float s = 0;
        for (int k = 0; k < n; ++k) s += (row[k] = std::exp(row[k] - mx));
        for (int k = 0; k < n; ++k) row[k] = row[k] / s + heps;
      }
      auto normalize_columns = [&] {
        for (int k = 0; k < n; ++k) {
          float s = 0;
          for (int j = 0; j < n; ++j) s += Mt[j * n + k];
          for (int j = 0; j < n; ++j) Mt[j * n + k] /= s + heps;
        }
      };
      normalize_columns();
      for (int it = 1; it < cx.c.hc_sinkhorn_iters; ++it) {
        for (int j = 0; j < n; ++j) {
          float s = 0;
          for (int k = 0; k < n; ++k) s += Mt[j * n + k];
          for (int k = 0; k < n; ++k) Mt[j * n + k] /= s + heps;
        }
        normalize_columns();
      }
      float* xt = x.data() + t * D;
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) xt[d] += pre[i] * f[i * D + d];
    }
  });
}

// §3: X[k] <- post[k] * y + sum_j M[j][k] X[j]. Channel by channel (the inner loops run along
// them), tokens split over the threads.
void hc_post(const Ctx& cx, float* X, int ntok, const Vec& y, const Vec& post, const Vec& M) {
  const int n = cx.c.hc_mult, D = cx.c.hidden_size;
  parallel_for(ntok, [&](size_t b, size_t e) {
    Vec out(static_cast<size_t>(n) * D);
    for (size_t t = b; t < e; ++t) {
      float* Xt = X + t * n * D;
      const float* Mt = M.data() + t * n * n;
      const float* yt = y.data() + t * D;
      for (int k = 0; k < n; ++k) {
        float* o = out.data() + static_cast<size_t>(k) * D;
        const float p = post[t * n + k];
        for (int d = 0; d < D; ++d) o[d] = p * yt[d];
        for (int j = 0; j < n; ++j) {
          const float mjk = Mt[j * n + k];
          const float* xj = Xt + static_cast<size_t>(j) * D;
          for (int d = 0; d < D; ++d) o[d] += mjk * xj[d];
        }
      }
      std::copy(out.begin(), out.end(), Xt);
    }
  });
}

// A compressor's two projections of the chunk's normed block input, K and G [ntok, width].
struct Projected {
  Vec k, g;
};

// Adds the products that fill `out` to `jobs` (run with the chunk's other projections of xn).
void project(const Compressor& w, const Vec& xn, int ntok, Projected& out, std::vector<MatmulJob>& jobs) {
  out.k.resize(static_cast<size_t>(ntok) * w.width());
  out.g.resize(out.k.size());
  jobs.push_back(rows_of(w.wkv, xn.data(), ntok, out.k.data()));
  jobs.push_back(rows_of(w.wgate, xn.data(), ntok, out.g.data()));
}

// §7: feeds the chunk's tokens to a compressor; complete windows append entries to st.entries.
void compress(const Ctx& cx, const Compressor& w, CompressorState& st, const Projected& kg, int ntok, int64_t p0) {
  const int m = w.ratio, dc = w.dim, width = w.width();
  const Vec &K = kg.k, &G = kg.g;
  for (int i = 0; i < ntok; ++i) {
    const int64_t p = p0 + i;
    const float* ape = w.ape.data() + static_cast<size_t>(p % m) * width;
    st.k.insert(st.k.end(), K.begin() + static_cast<size_t>(i) * width, K.begin() + static_cast<size_t>(i + 1) * width);
    for (int ch = 0; ch < width; ++ch) st.g.push_back(G[static_cast<size_t>(i) * width + ch] + ape[ch]);
    if (p % m != m - 1) continue;
    const int64_t win = p / m;
    Vec entry(dc);
    // Slots: (row offset into the pending buffer, channel offset) pairs.
    std::vector<std::pair<size_t, int>> slots;
    if (m == 4) {
      if (win > 0)
        for (int s = 0; s < m; ++s) slots.push_back({static_cast<size_t>((win - 1) * m + s - st.first_pos), 0});
      for (int s = 0; s < m; ++s) slots.push_back({static_cast<size_t>(win * m + s - st.first_pos), dc});
    } else {
      for (int s = 0; s < m; ++s) slots.push_back({static_cast<size_t>(win * m + s - st.first_pos), 0});
    }
    Vec wt(slots.size());
    for (int ch = 0; ch < dc; ++ch) {
      float mx = -INFINITY;
      for (size_t s = 0; s < slots.size(); ++s) mx = std::max(mx, st.g[slots[s].first * width + slots[s].second + ch]);
      float z = 0, acc = 0;
      for (size_t s = 0; s < slots.size(); ++s) {
        const float e = std::exp(st.g[slots[s].first * width + slots[s].second + ch] - mx);
        z += e;
        acc += e * st.k[slots[s].first * width + slots[s].second + ch];
      }
      entry[ch] = acc / z;
    }
    rms_norm(entry.data(), dc, w.norm.data(), cx.eps);
    cx.compress_rope.at(win * m).apply(entry.data(), dc);
    st.entries.insert(st.entries.end(), entry.begin(), entry.end());
    // Keep only the rows a later entry still reads (the overlap half of this window for m = 4).
    const int64_t keep_from = m == 4 ? win * m : (win + 1) * m;
    const size_t drop = static_cast<size_t>(keep_from - st.first_pos) * width;
    st.k.erase(st.k.begin(), st.k.begin() + drop);
    st.g.erase(st.g.begin(), st.g.begin() + drop);
    st.first_pos = keep_from;
  }
}

// The indexer's projections of the chunk: its compressor's, head weights w [ntok, nI] (both
// from xn) and queries q [ntok, nI * c] (from the normed q-LoRA latent, a second round).
struct IndexerInputs {
  Projected kg;
  Vec w, q;
};

// §8: the compressed entries each query of the chunk may see.
std::vector<std::vector<int>> indexer_select(const Ctx& cx, const Indexer& ix, LayerState& st, IndexerInputs& in,
                                             int ntok, int64_t p0) {
  const int nI = cx.c.index_heads, c = cx.c.index_head_dim;
  compress(cx, ix.compressor, st.index_compressor, in.kg, ntok, p0);
  Vec &q = in.q, &w = in.w;
  const float wscale = 1.0f / std::sqrt(static_cast<float>(c)) / std::sqrt(static_cast<float>(nI));
  std::vector<std::vector<int>> picks(ntok);
  const float* keys = st.index_compressor.entries.data();
  // Token by token, the entries split over the threads (decoding scores them all for its one
  // token); each block of entries meets all heads in one blocked product.
  constexpr int kBlock = 64;
  std::vector<float> score;
  std::vector<std::pair<float, int>> scored;
  Vec head_weights(nI);
  for (int t = 0; t < ntok; ++t) {
    const int64_t pos = p0 + t;
    const int valid = static_cast<int>((pos + 1) / 4);
    float* qt = q.data() + static_cast<size_t>(t) * nI * c;
    const Rotation rot = cx.compress_rope.at(pos);
    for (int h = 0; h < nI; ++h) rot.apply(qt + h * c, c);
    for (int h = 0; h < nI; ++h) head_weights[h] = w[static_cast<size_t>(t) * nI + h] * wscale;
    score.resize(valid);
    // An entry's score is relu(its products with the heads) . head_weights, vectorized: at 64k
    // tokens of context a scalar loop here took a tenth of a decoding step.
    parallel_for((static_cast<size_t>(valid) + kBlock - 1) / kBlock, [&](size_t b, size_t e) {
      thread_local Vec dots;
      const int s0 = static_cast<int>(b) * kBlock, s1 = std::min(valid, static_cast<int>(e) * kBlock);
      dots.resize(static_cast<size_t>(s1 - s0) * nI);
      dot_products(keys + static_cast<size_t>(s0) * c, c, s1 - s0, qt, c, nI, c, dots.data());
      for (int s = s0; s < s1; ++s) score[s] = relu_dot(dots.data() + static_cast<size_t>(s - s0) * nI, head_weights.data(), nI);
    });
    scored.clear();
    for (int s = 0; s < valid; ++s) scored.push_back({score[s], s});
    const int k = std::min(cx.c.index_topk, valid);
    std::partial_sort(scored.begin(), scored.begin() + k, scored.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    for (int i = 0; i < k; ++i) picks[t].push_back(scored[i].second);
  }
  return picks;
}

// Buffers of attend, kept across the tokens of a chunk.
struct Scratch {
  Vec K, KT, S, P, OT, z;
};

// §6 for one token and all H heads: o_h = sum_j softmax_j(q_h . k_j / sqrt(d), with the head's
// sink) k_j. The heads share one set of keys (a single kv head), so scores and weighted sums
// are two blocked products, keys x heads and dims x heads, split over the threads.
void attend(const std::vector<const float*>& keys, const float* q, int H, int d, const Vec& sink, float* o, Scratch& b) {
  constexpr int kBlock = 32;
  auto blocks = [](int n) { return (static_cast<size_t>(n) + kBlock - 1) / kBlock; };
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const int nk = static_cast<int>(keys.size());
  b.K.resize(static_cast<size_t>(nk) * d);
  b.S.resize(static_cast<size_t>(nk) * H);
  parallel_for(blocks(nk), [&](size_t lo, size_t hi) {  // S[j][h] = k_j . q_h
    const int j0 = static_cast<int>(lo) * kBlock, j1 = std::min(nk, static_cast<int>(hi) * kBlock);
    for (int j = j0; j < j1; ++j) std::copy_n(keys[j], d, b.K.begin() + static_cast<size_t>(j) * d);
    dot_products(b.K.data() + static_cast<size_t>(j0) * d, d, j1 - j0, q, d, H, d, b.S.data() + static_cast<size_t>(j0) * H);
  });
  b.P.resize(static_cast<size_t>(H) * nk);
  b.z.resize(H);
  parallel_for(H, [&](size_t lo, size_t hi) {  // P[h][j], and z[h] the softmax denominator
    for (size_t h = lo; h < hi; ++h) {
      float mx = sink[h];
      for (int j = 0; j < nk; ++j) mx = std::max(mx, b.S[static_cast<size_t>(j) * H + h] * scale);
      float sum = std::exp(sink[h] - mx);
      for (int j = 0; j < nk; ++j) sum += b.P[h * nk + j] = std::exp(b.S[static_cast<size_t>(j) * H + h] * scale - mx);
      b.z[h] = sum;
    }
  });
  b.KT.resize(static_cast<size_t>(d) * nk);
  b.OT.resize(static_cast<size_t>(d) * H);
  parallel_for(blocks(d), [&](size_t lo, size_t hi) {  // OT[i][h] = sum_j K[j][i] P[h][j]
    const int i0 = static_cast<int>(lo) * kBlock, i1 = std::min(d, static_cast<int>(hi) * kBlock);
    for (int j = 0; j < nk; ++j)
      for (int i = i0; i < i1; ++i) b.KT[static_cast<size_t>(i) * nk + j] = b.K[static_cast<size_t>(j) * d + i];
    dot_products(b.KT.data() + static_cast<size_t>(i0) * nk, nk, i1 - i0, b.P.data(), nk, H, nk, b.OT.data() + static_cast<size_t>(i0) * H);
  });
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < d; ++i) o[static_cast<size_t>(h) * d + i] = b.OT[static_cast<size_t>(i) * H + h] / b.z[h];
}

// §6: attention of the chunk's tokens; returns [ntok, D].
Vec attention(const Ctx& cx, const AttentionWeights& a, LayerState& st, const Vec& xn, int ntok, int64_t p0,
              std::vector<std::vector<int>>* picks_out) {
  const ModelConfig& c = cx.c;
  const int H = c.num_heads, d = c.head_dim, D = c.hidden_size, W = c.sliding_window;
  const Rope& rope = cx.rope(a.ratio);
  // Every projection of the block input in one round, then those of the q latent in a second.
  Vec qr(static_cast<size_t>(ntok) * c.q_lora_rank), kv(static_cast<size_t>(ntok) * d);
  Projected kg;
  IndexerInputs ix;
  std::vector<MatmulJob> jobs = {rows_of(a.wq_a, xn.data(), ntok, qr.data()), rows_of(a.wkv, xn.data(), ntok, kv.data())};
  if (a.ratio) project(*a.compressor, xn, ntok, kg, jobs);
  if (a.ratio == 4) {
    project(a.indexer->compressor, xn, ntok, ix.kg, jobs);
    ix.w.resize(static_cast<size_t>(ntok) * c.index_heads);
    jobs.push_back(rows_of(a.indexer->weights_proj, xn.data(), ntok, ix.w.data()));
  }
  matmul_many(jobs);
  rms_norm_rows(qr, c.q_lora_rank, a.q_norm, cx.eps);
  Vec q(static_cast<size_t>(ntok) * H * d);
  jobs = {rows_of(a.wq_b, qr.data(), ntok, q.data())};
  if (a.ratio == 4) {
    ix.q.resize(static_cast<size_t>(ntok) * c.index_heads * c.index_head_dim);
    jobs.push_back(rows_of(a.indexer->wq_b, qr.data(), ntok, ix.q.data()));
  }
  matmul_many(jobs);
  std::vector<Rotation> rot(ntok);
  for (int t = 0; t < ntok; ++t) rot[t] = rope.at(p0 + t);
  parallel_for(static_cast<size_t>(ntok) * H, [&](size_t b, size_t e) {
    for (size_t th = b; th < e; ++th) {
      float* qh = q.data() + th * d;
      rms_norm(qh, d, nullptr, cx.eps);
      rot[th / H].apply(qh, d);
    }
  });
  rms_norm_rows(kv, d, a.kv_norm, cx.eps);
  for (int t = 0; t < ntok; ++t) rot[t].apply(kv.data() + static_cast<size_t>(t) * d, d);

  // Window keys for positions [lo, p0 + ntok): remembered ones from the ring, then this chunk's.
  const int64_t lo = std::max<int64_t>(0, p0 - W + 1);
  Vec win(static_cast<size_t>(p0 + ntok - lo) * d);
  for (int64_t p = lo; p < p0; ++p)
    std::copy_n(st.window.begin() + (p % W) * d, d, win.begin() + (p - lo) * d);
  std::copy(kv.begin(), kv.end(), win.begin() + (p0 - lo) * d);
  for (int64_t p = std::max(p0, p0 + ntok - W); p < p0 + ntok; ++p)
    std::copy_n(kv.begin() + (p - p0) * d, d, st.window.begin() + (p % W) * d);

  std::vector<std::vector<int>> picks;
  if (a.ratio) compress(cx, *a.compressor, st.compressor, kg, ntok, p0);
  if (a.ratio == 4) picks = indexer_select(cx, *a.indexer, st, ix, ntok, p0);
  const float* entries = st.compressor.entries.data();

  Vec o(static_cast<size_t>(ntok) * H * d);
  Scratch scratch;
  std::vector<const float*> keys;
  for (int t = 0; t < ntok; ++t) {
    const int64_t pos = p0 + t;
    keys.clear();
    for (int64_t p = std::max<int64_t>(0, pos - W + 1); p <= pos; ++p) keys.push_back(win.data() + (p - lo) * d);
    if (a.ratio == 128)
      for (int64_t w = 0; w < (pos + 1) / 128; ++w) keys.push_back(entries + w * d);
    if (a.ratio == 4)
      for (int w : picks[t]) keys.push_back(entries + static_cast<size_t>(w) * d);
    float* ot = o.data() + static_cast<size_t>(t) * H * d;
    attend(keys, q.data() + static_cast<size_t>(t) * H * d, H, d, a.sink, ot, scratch);
    for (int h = 0; h < H; ++h) rot[t].apply(ot + static_cast<size_t>(h) * d, d, -1);
  }
  if (picks_out) *picks_out = std::move(picks);

  // Grouped low-rank output projection.
  // Group g's rows of wo_a read group g's slice of every head output: gathered per group.
  const int G = c.o_groups, R = c.o_lora_rank, gw = H * d / G;
  std::vector<Vec> og(G, Vec(static_cast<size_t>(ntok) * gw)), ug(G, Vec(static_cast<size_t>(ntok) * R));
  jobs.clear();
  for (int g = 0; g < G; ++g) {
    for (int t = 0; t < ntok; ++t)
      std::copy_n(o.begin() + static_cast<size_t>(t) * H * d + static_cast<size_t>(g) * gw, gw, og[g].begin() + static_cast<size_t>(t) * gw);
    jobs.push_back({&a.wo_a, og[g].data(), ntok, ug[g].data(), g * R, (g + 1) * R});
  }
  matmul_many(jobs);
  Vec u(static_cast<size_t>(ntok) * G * R);
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < ntok; ++t)
      std::copy_n(ug[g].begin() + static_cast<size_t>(t) * R, R, u.begin() + static_cast<size_t>(t) * G * R + static_cast<size_t>(g) * R);
  Vec out(static_cast<size_t>(ntok) * D);
  matmul(a.wo_b, u.data(), ntok, out.data());
  return out;
}

// One expert's share of the chunk: the rows of xn routed to it, and their weights.
struct ExpertWork {
  const Expert* e;
  const float* x;                              // [n, D]: gathered, or xn itself for the shared expert
  int n;
  Vec gathered;                                // a routed expert's rows of xn
  std::vector<std::pair<int, float>> targets;  // (token, weight); empty for the shared expert
  Vec a, b, y;
};

// Clamped SwiGLU of every expert at once: the w1/w3 products of all of them in one round, the
// w2 products in a second (when decoding, two hand-offs to the workers instead of three per
// expert).
void run_experts(const Ctx& cx, std::vector<ExpertWork>& work) {
  const int I = cx.c.moe_intermediate, D = cx.c.hidden_size;
  const float limit = static_cast<float>(cx.c.swiglu_limit);
  std::vector<MatmulJob> jobs;
  for (ExpertWork& w : work) {
    w.a.resize(static_cast<size_t>(w.n) * I);
    w.b.resize(w.a.size());
    jobs.push_back(rows_of(w.e->w1, w.x, w.n, w.a.data()));
    jobs.push_back(rows_of(w.e->w3, w.x, w.n, w.b.data()));
  }
  matmul_many(jobs);
  jobs.clear();
  // The activations (an exp each, 14k a layer when decoding Flash) split over the threads too.
  parallel_for(work.size(), [&](size_t b, size_t e) {
    for (size_t k = b; k < e; ++k) {
      ExpertWork& w = work[k];
      for (size_t i = 0; i < w.a.size(); ++i) {
        float u = w.a[i], v = w.b[i];
        if (limit > 0) {
          u = std::min(u, limit);
          v = std::clamp(v, -limit, limit);
        }
        w.a[i] = u / (1 + std::exp(-u)) * v;
      }
    }
  });
  for (ExpertWork& w : work) {
    w.y.resize(static_cast<size_t>(w.n) * D);
    jobs.push_back(rows_of(w.e->w2, w.a.data(), w.n, w.y.data()));
  }
  matmul_many(jobs);
}

// §9: returns [ntok, D].
Vec moe(const Ctx& cx, const MoeWeights& mw, const Vec& xn, const int32_t* ids, int ntok) {
  const ModelConfig& c = cx.c;
  const int E = c.n_routed_experts, K = c.experts_per_token, D = c.hidden_size;
  Vec logits(static_cast<size_t>(ntok) * E);
  matmul(mw.gate, xn.data(), ntok, logits.data());
  std::vector<std::vector<std::pair<int, float>>> routed(E);  // expert -> (token, weight)
  for (int t = 0; t < ntok; ++t) {
    float* s = logits.data() + static_cast<size_t>(t) * E;
    for (int e = 0; e < E; ++e) {
      const float x = s[e];
      s[e] = std::sqrt(x > 20 ? x : std::log1p(std::exp(x)));
    }
    std::vector<int> sel(K);
    if (mw.hash_routed) {
      std::copy_n(mw.tid2eid.begin() + static_cast<size_t>(ids[t]) * K, K, sel.begin());
    } else {
      std::vector<int> order(E);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int a, int b) {
        const float sa = s[a] + mw.gate_bias[a], sb = s[b] + mw.gate_bias[b];
        return sa > sb || (sa == sb && a < b);
      });
      std::copy_n(order.begin(), K, sel.begin());
    }
    float sum = 0;
    for (int e : sel) sum += s[e];
    for (int e : sel) routed[e].push_back({t, s[e] / sum * static_cast<float>(c.routed_scaling)});
  }
  std::vector<ExpertWork> work(1);
  work[0].e = &mw.shared;
  work[0].x = xn.data();
  work[0].n = ntok;
  for (int e = 0; e < E; ++e) {
    if (routed[e].empty()) continue;
    ExpertWork& w = work.emplace_back();
    w.e = &mw.experts[e];
    w.targets = std::move(routed[e]);
    w.n = static_cast<int>(w.targets.size());
    w.gathered.resize(w.targets.size() * D);
    for (size_t r = 0; r < w.targets.size(); ++r)
      std::copy_n(xn.begin() + static_cast<size_t>(w.targets[r].first) * D, D, w.gathered.begin() + r * D);
    w.x = w.gathered.data();  // stays valid when work grows: moving a vector keeps its buffer
  }
  run_experts(cx, work);
  Vec out = std::move(work[0].y);
  for (size_t i = 1; i < work.size(); ++i) {
    const ExpertWork& w = work[i];
    for (size_t r = 0; r < w.targets.size(); ++r) {
      float* o = out.data() + static_cast<size_t>(w.targets[r].first) * D;
      const float wgt = w.targets[r].second;
      for (int k = 0; k < D; ++k) o[k] += wgt * w.y[r * D + k];
    }
  }
  return out;
}

// §3: one decoder layer over the chunk's streams X [ntok, n, D].
void block(const Ctx& cx, const BlockWeights& bw, LayerState& st, Vec& X, const int32_t* ids, int ntok, int64_t p0,
           std::vector<std::vector<int>>* picks) {
  Vec x, post, M;
  hc_pre(cx, bw.hc_attn, X.data(), ntok, x, post, M);
  rms_norm_rows(x, cx.c.hidden_size, bw.attn_norm, cx.eps);
  Vec y = attention(cx, bw.attn, st, x, ntok, p0, picks);
  hc_post(cx, X.data(), ntok, y, post, M);
  hc_pre(cx, bw.hc_ffn, X.data(), ntok, x, post, M);
  rms_norm_rows(x, cx.c.hidden_size, bw.ffn_norm, cx.eps);
  Vec z = moe(cx, bw.moe, x, ids, ntok);
  hc_post(cx, X.data(), ntok, z, post, M);
}

// §4: final hyper-connection head and vocabulary projection.
Vec head(const Ctx& cx, const HeadMix& hm, const Vec& norm, const Vec& X, int ntok) {
  const int n = cx.c.hc_mult, D = cx.c.hidden_size, nD = n * D;
  const float heps = static_cast<float>(cx.c.hc_eps);
  Vec h(static_cast<size_t>(ntok) * D, 0);
  for (int t = 0; t < ntok; ++t) {
    const float* f = X.data() + static_cast<size_t>(t) * nD;
    double ss = 0;
    for (int i = 0; i < nD; ++i) ss += static_cast<double>(f[i]) * f[i];
    const float r = 1.0f / std::sqrt(static_cast<float>(ss / nD) + cx.eps);
    for (int i = 0; i < n; ++i) {
      const float p = sigmoid(dot(hm.fn.data() + static_cast<size_t>(i) * nD, f, nD) * r * hm.scale[0] + hm.base[i]) + heps;
      for (int k = 0; k < D; ++k) h[static_cast<size_t>(t) * D + k] += p * f[i * D + k];
    }
  }
  rms_norm_rows(h, D, norm, cx.eps);
  Vec logits(static_cast<size_t>(ntok) * cx.c.vocab_size);
  matmul(cx.m.head, h.data(), ntok, logits.data());
  return logits;
}

void check_ids(const ModelConfig& c, const std::vector<int32_t>& ids) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= c.vocab_size)
      throw std::runtime_error("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                               " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
}

// One chunk of the forward pass: every intermediate is [ntok, ...] (attention's queries and
// outputs 128 KiB a token at Flash's size), so forward feeds long prompts in chunks.
ForwardOutput forward_chunk(const Ctx& cx, DecodeState& state, const std::vector<int32_t>& ids, const ForwardRequest& want) {
  const ModelWeights& model = cx.m;
  const ModelConfig& c = cx.c;
  const int ntok = static_cast<int>(ids.size());
  const int n = c.hc_mult, D = c.hidden_size;
  ForwardOutput out;
  if (ntok == 0) return out;
  Vec X(static_cast<size_t>(ntok) * n * D);
  Vec row(D);
  for (int t = 0; t < ntok; ++t) {
    model.embed.dequantize_row(ids[t], row.data());
    for (int i = 0; i < n; ++i) std::copy(row.begin(), row.end(), X.begin() + (static_cast<size_t>(t) * n + i) * D);
  }
  for (int l = 0; l < c.num_layers; ++l) {
    std::vector<std::vector<int>> picks;
    block(cx, model.layers[l], state.layers[l], X, ids.data(), ntok, state.pos, &picks);
    if (want.indexer_picks && model.layers[l].attn.ratio == 4) out.indexer_picks[l] = std::move(picks);
  }
  state.pos += ntok;
  if (want.logits && want.last_logits_only) {
    const Vec last(X.end() - static_cast<std::ptrdiff_t>(n) * D, X.end());
    out.logits = head(cx, model.hc_head, model.norm, last, 1);
  } else if (want.logits) {
    out.logits = head(cx, model.hc_head, model.norm, X, ntok);
  }
  if (want.streams) out.streams = std::move(X);
  return out;
}

}  // namespace

ForwardOutput forward(const ModelWeights& model, DecodeState& state, const std::vector<int32_t>& ids,
                      const ForwardRequest& want) {
  const Ctx cx(model);
  check_ids(cx.c, ids);
  // Chunks of this many tokens bound a prefill's memory (about 1 GB at Flash's size; a 2048-token
  // chunk ran 15-25% slower on its page faults alone) while each routed expert of Flash's 256
  // still sees some 24 tokens per chunk to share its weights. The results do not depend on the
  // chunking: each token's arithmetic is the same whichever chunk it is in.
  constexpr size_t kChunk = 1024;
  if (ids.size() <= kChunk) return forward_chunk(cx, state, ids, want);
  ForwardOutput out;
  for (size_t b = 0; b < ids.size(); b += kChunk) {
    const bool last = b + kChunk >= ids.size();
    ForwardRequest part = want;
    part.logits = want.logits && (last || !want.last_logits_only);
    ForwardOutput o = forward_chunk(cx, state, {ids.begin() + b, ids.begin() + std::min(ids.size(), b + kChunk)}, part);
    out.logits.insert(out.logits.end(), o.logits.begin(), o.logits.end());
    out.streams.insert(out.streams.end(), o.streams.begin(), o.streams.end());
    for (auto& [layer, picks] : o.indexer_picks)
      out.indexer_picks[layer].insert(out.indexer_picks[layer].end(), std::make_move_iterator(picks.begin()), std::make_move_iterator(picks.end()));
  }
  return out;
}

std::vector<float> forward_mtp(const ModelWeights& model, DecodeState& state, const std::vector<float>& streams,
                               const std::vector<int32_t>& next_ids) {
  if (!model.mtp) throw std::runtime_error("this model has no MTP layer (num_nextn_predict_layers = 0)");
  const Ctx cx(model);
  const ModelConfig& c = cx.c;
  check_ids(c, next_ids);
  const MtpWeights& mt = *model.mtp;
  const int ntok = static_cast<int>(next_ids.size()), n = c.hc_mult, D = c.hidden_size;
  if (streams.size() < static_cast<size_t>(ntok) * n * D) throw std::runtime_error("forward_mtp: fewer streams than next ids");
  Vec ev(static_cast<size_t>(ntok) * D), hv(static_cast<size_t>(ntok) * n * D);
  for (int t = 0; t < ntok; ++t) model.embed.dequantize_row(next_ids[t], ev.data() + static_cast<size_t>(t) * D);
  rms_norm_rows(ev, D, mt.enorm, cx.eps);
  std::copy_n(streams.begin(), hv.size(), hv.begin());
  rms_norm_rows(hv, D, mt.hnorm, cx.eps);
  Vec e(static_cast<size_t>(ntok) * D), X(static_cast<size_t>(ntok) * n * D);
  matmul(mt.e_proj, ev.data(), ntok, e.data());
  matmul(mt.h_proj, hv.data(), ntok * n, X.data());
  for (int t = 0; t < ntok; ++t)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < D; ++k) X[(static_cast<size_t>(t) * n + j) * D + k] += e[static_cast<size_t>(t) * D + k];
  block(cx, mt.block, state.mtp, X, next_ids.data(), ntok, state.mtp_pos, nullptr);
  state.mtp_pos += ntok;
  return head(cx, mt.head, mt.norm, X, ntok);
}

}  // namespace dsv4::engine
