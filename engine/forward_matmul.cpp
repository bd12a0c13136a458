#include "engine/forward_matmul.hpp"

#include "engine/forward_kernels.hpp"

#include "engine/simd.hpp"

#include <algorithm>
#include <vector>

namespace dsv4::engine {
namespace {

// kRelu: a's elements count as max(a_i, 0) (a NaN as 0, as std::max(0.0f, a_i) has it).
template <bool kRelu>
float element(const float* a, int k) {
  return kRelu ? std::max(0.0f, a[k]) : a[k];
}

template <bool kRelu>
float dot_scalar(const float* a, const float* b, int n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) s[j] += element<kRelu>(a, k + j) * b[k + j];
  float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; k < n; ++k) t += element<kRelu>(a, k) * b[k];
  return t;
}

template <bool kRelu>
__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) {
  const __m256 v = _mm256_loadu_ps(p);
  return kRelu ? _mm256_max_ps(v, _mm256_setzero_ps()) : v;
}

template <bool kRelu>
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    s0 = _mm256_fmadd_ps(load8<kRelu>(a + k), _mm256_loadu_ps(b + k), s0);
    s1 = _mm256_fmadd_ps(load8<kRelu>(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
  }
  for (; k + 8 <= n; k += 8) s0 = _mm256_fmadd_ps(load8<kRelu>(a + k), _mm256_loadu_ps(b + k), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float t = _mm_cvtss_f32(h);
  for (; k < n; ++k) t += element<kRelu>(a, k) * b[k];
  return t;
}

using DotFn = float (*)(const float*, const float*, int);
const bool g_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
const DotFn g_dot = g_avx2 ? dot_avx2<false> : dot_scalar<false>;
const DotFn g_relu_dot = g_avx2 ? dot_avx2<true> : dot_scalar<true>;

}  // namespace

float dot(const float* a, const float* b, int n) { return g_dot(a, b, n); }
float relu_dot(const float* a, const float* b, int n) { return g_relu_dot(a, b, n); }

void matmul(const Linear& w, const float* x, int n, float* y, int row_begin, int row_end) {
  const int rows = row_end - row_begin;
  const size_t in = static_cast<size_t>(w.in);
  // Decoding (one token): each row is read once, dequantized inside the dot product.
  auto fused = [&](size_t b, size_t e) { rows_dot(w, row_begin + static_cast<int>(b), row_begin + static_cast<int>(e), x, y + b); };
  // Batches: groups of 4 rows are expanded kColumns at a time into a buffer that stays in L1 and
  // dotted with up to kTokens tokens, whose columns stay in L2 while the rows go by; every
  // expanded value then feeds that many FMAs.
  constexpr int kColumns = 1024, kTokens = 64;
  const size_t groups = (static_cast<size_t>(rows) + 3) / 4;
  auto blocked = [&](size_t gb, size_t ge) {
    thread_local std::vector<float> buf, acc;
    buf.resize(4 * kColumns);
    for (int t0 = 0; t0 < n; t0 += kTokens) {
      const int nt = std::min(kTokens, n - t0);
      acc.assign((ge - gb) * 4 * nt, 0.0f);
      for (int k0 = 0; k0 < w.in; k0 += kColumns) {
        const int k1 = std::min(w.in, k0 + kColumns);
        for (size_t g = gb; g < ge; ++g) {
          const int r0 = static_cast<int>(g * 4), nr = std::min(4, rows - r0);
          for (int i = 0; i < 4; ++i)  // a short group repeats its last row
            expand_row(w, row_begin + r0 + std::min(i, nr - 1), buf.data() + i * kColumns, k0, k1);
          dot_rows4(buf.data(), kColumns, x + t0 * in + k0, in, nt, k1 - k0, acc.data() + (g - gb) * 4 * nt);
        }
      }
      for (size_t g = gb; g < ge; ++g) {
        const int r0 = static_cast<int>(g * 4), nr = std::min(4, rows - r0);
        for (int t = 0; t < nt; ++t)
          for (int i = 0; i < nr; ++i) y[static_cast<size_t>(t0 + t) * rows + r0 + i] = acc[(g - gb) * 4 * nt + t * 4 + i];
      }
    }
  };
  // Tiny matrices are not worth waking the pool for.
  const bool tiny = static_cast<size_t>(rows) * in * std::max(1, n) < 32768;
  if (n == 1) return tiny ? fused(0, rows) : parallel_for(rows, fused);
  if (tiny) return blocked(0, groups);
  parallel_for(groups, blocked);
}

void dot_products(const float* a, size_t lda, int m, const float* b, size_t ldb, int n, int k, float* c) {
  thread_local std::vector<float> acc, pad;
  acc.resize(static_cast<size_t>(4) * n);
  for (int i0 = 0; i0 < m; i0 += 4) {
    const int rows = std::min(4, m - i0);
    const float* block = a + static_cast<size_t>(i0) * lda;
    size_t ld = lda;
    if (rows < 4) {  // the kernel reads 4 rows: a short last group repeats its last row
      pad.resize(static_cast<size_t>(4) * k);
      for (int i = 0; i < 4; ++i) std::copy_n(block + static_cast<size_t>(std::min(i, rows - 1)) * lda, k, pad.begin() + static_cast<size_t>(i) * k);
      block = pad.data();
      ld = static_cast<size_t>(k);
    }
    std::fill(acc.begin(), acc.end(), 0.0f);
    dot_rows4(block, ld, b, ldb, n, k, acc.data());
    for (int i = 0; i < rows; ++i)
      for (int t = 0; t < n; ++t) c[static_cast<size_t>(i0 + i) * n + t] = acc[static_cast<size_t>(t) * 4 + i];
  }
}

MatmulJob rows_of(const Linear& w, const float* x, int n, float* y) { return {&w, x, n, y, 0, w.out}; }

void matmul_many(const std::vector<MatmulJob>& jobs) {
  std::vector<const MatmulJob*> single;
  std::vector<size_t> first{0};  // first[i]: where single[i]'s rows start in the joint row range
  for (const MatmulJob& j : jobs) {
    if (j.n != 1) {
      matmul(*j.w, j.x, j.n, j.y, j.row_begin, j.row_end);
      continue;
    }
    single.push_back(&j);
    first.push_back(first.back() + static_cast<size_t>(j.row_end - j.row_begin));
  }
  parallel_for(first.back(), [&](size_t b, size_t e) {
    size_t i = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), b) - first.begin()) - 1;
    for (; b < e; ++i) {
      const size_t stop = std::min(e, first[i + 1]);
      const MatmulJob& j = *single[i];
      const int r0 = j.row_begin + static_cast<int>(b - first[i]), r1 = j.row_begin + static_cast<int>(stop - first[i]);
      rows_dot(*j.w, r0, r1, j.x, j.y + (r0 - j.row_begin));
      b = stop;
    }
  });
}

}  // namespace dsv4::engine
