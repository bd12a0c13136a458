#include "engine/forward_kernels.hpp"

#include "engine/simd.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/forward_kernels_avx512.hpp"
#include "engine/forward_kernels_bf16dot.hpp"

namespace dsv4::engine {
namespace {

float row_dot_generic(const Linear& w, int row, const float* x) {
  thread_local std::vector<float> buf;
  buf.resize(w.in);
  w.dequantize_row(row, buf.data());
  float s = 0;
  for (int k = 0; k < w.in; ++k) s += buf[k] * x[k];
  return s;
}

__attribute__((target("avx2,fma"))) float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// e4m3 byte -> float32 bits: the 7 magnitude bits shifted into place give 2^-120 times the value
// for normal and subnormal codes alike (the block scale absorbs the 2^120), the sign moves to bit 31.
__attribute__((target("avx2,fma"))) __m256 e4m3x8(const uint8_t* p) {
  int64_t raw;
  std::memcpy(&raw, p, 8);
  const __m256i b = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(raw));
  const __m256i mag = _mm256_slli_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x7f)), 20);
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x80)), 24);
  return _mm256_castsi256_ps(_mm256_or_si256(mag, sign));
}

// x is lifted by 2^64 (exact) so that products with the 2^-120-scaled weights stay clear of
// float32's subnormals, where small activations would lose their bits; 2^56 undoes the rest.
__attribute__((target("avx2,fma"))) float row_dot_fp8(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
  const uint8_t* s = w.scale + static_cast<size_t>(row / 128) * w.scale_cols;
  const __m256 lift = _mm256_set1_ps(0x1p64f);
  float total = 0;
  for (int k0 = 0; k0 < w.in; k0 += 128) {
    const int k1 = std::min(w.in, k0 + 128);
    __m256 acc = _mm256_setzero_ps();
    int k = k0;
    for (; k + 8 <= k1; k += 8) acc = _mm256_fmadd_ps(e4m3x8(p + k), _mm256_mul_ps(_mm256_loadu_ps(x + k), lift), acc);
    float block = hsum(acc) * 0x1p56f;
    for (; k < k1; ++k) block += e4m3_to_float(p[k]) * x[k];
    total += block * e8m0_to_float(s[k0 / 128]);
  }
  return total;
}

// FP4 codes of 16 bytes (32 columns) to int8 values times two, in column order: the table maps
// code -> 2 * e2m1 value, so every value is an exact small integer.
__attribute__((target("avx2,fma"))) void fp4x32_to_i8(const uint8_t* p, __m128i& first16, __m128i& last16) {
  const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i mask = _mm_set1_epi8(15);
  const __m128i lo = _mm_and_si128(bytes, mask), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
  first16 = _mm_shuffle_epi8(table, _mm_unpacklo_epi8(lo, hi));  // columns 0..15
  last16 = _mm_shuffle_epi8(table, _mm_unpackhi_epi8(lo, hi));   // columns 16..31
}

__attribute__((target("avx2,fma"))) float row_dot_fp4(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * (w.in / 2);
  const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
  __m256 total = _mm256_setzero_ps();
  for (int g = 0; g < w.in / 32; ++g) {
    __m128i a, b;
    fp4x32_to_i8(p + g * 16, a, b);
    const float* xg = x + g * 32;
    __m256 acc = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(a)), _mm256_loadu_ps(xg));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(a, 8))), _mm256_loadu_ps(xg + 8), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)), _mm256_loadu_ps(xg + 16), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8))), _mm256_loadu_ps(xg + 24), acc);
    total = _mm256_fmadd_ps(acc, _mm256_set1_ps(0.5f * e8m0_to_float(s[g])), total);
  }
  return hsum(total);
}

__attribute__((target("avx2,fma"))) float row_dot_bf16(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 2;
  __m256 acc = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= w.in; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * k));
    const __m256 v = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    acc = _mm256_fmadd_ps(v, _mm256_loadu_ps(x + k), acc);
  }
  float t = hsum(acc);
  for (; k < w.in; ++k) {
    uint16_t b;
    std::memcpy(&b, p + 2 * k, 2);
    t += bf16_to_float(b) * x[k];
  }
  return t;
}

__attribute__((target("avx2,fma"))) float row_dot_f32(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 4;
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= w.in; k += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p) + k), _mm256_loadu_ps(x + k), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p) + k + 8), _mm256_loadu_ps(x + k + 8), a1);
  }
  float t = hsum(_mm256_add_ps(a0, a1));
  for (; k < w.in; ++k) {
    float v;
    std::memcpy(&v, p + 4 * k, 4);
    t += v * x[k];
  }
  return t;
}

__attribute__((target("avx2,fma"))) void expand_fp8(const Linear& w, int row, float* dst, int c0, int c1) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
  const uint8_t* s = w.scale + static_cast<size_t>(row / 128) * w.scale_cols;
  for (int k0 = c0; k0 < c1; k0 += 128) {
    const int k1 = std::min(c1, k0 + 128);
    const float sc = e8m0_to_float(s[k0 / 128]);
    // times 2^120 is exact, so one rounding remains, as in the reference.
    const __m256 unbias = _mm256_set1_ps(0x1p120f), scale = _mm256_set1_ps(sc);
    int k = k0;
    for (; k + 8 <= k1; k += 8) _mm256_storeu_ps(dst + k - c0, _mm256_mul_ps(_mm256_mul_ps(e4m3x8(p + k), unbias), scale));
    for (; k < k1; ++k) dst[k - c0] = e4m3_to_float(p[k]) * sc;
  }
}

__attribute__((target("avx2,fma"))) void expand_fp4(const Linear& w, int row, float* dst, int c0, int c1) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * (w.in / 2);
  const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
  const __m256 table = _mm256_setr_ps(0, 0.5f, 1, 1.5f, 2, 3, 4, 6);
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  for (int g = c0 / 32; g < c1 / 32; ++g) {
    const __m256 scale = _mm256_set1_ps(e8m0_to_float(s[g]));
    for (int j = 0; j < 4; ++j) {
      uint32_t u;
      std::memcpy(&u, p + g * 16 + j * 4, 4);
      const __m256i codes = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(u)), shifts), _mm256_set1_epi32(15));
      const __m256 mag = _mm256_permutevar8x32_ps(table, codes);
      const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(codes, _mm256_set1_epi32(8)), 28);
      const __m256 v = _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(mag), sign));
      _mm256_storeu_ps(dst + g * 32 + j * 8 - c0, _mm256_mul_ps(v, scale));
    }
  }
}

__attribute__((target("avx2,fma"))) void expand_bf16(const Linear& w, int row, float* dst, int c0, int c1) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 2;
  int k = c0;
  for (; k + 8 <= c1; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * k));
    _mm256_storeu_ps(dst + k - c0, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
  }
  for (; k < c1; ++k) {
    uint16_t b;
    std::memcpy(&b, p + 2 * k, 2);
    dst[k - c0] = bf16_to_float(b);
  }
}

// The 4-row block at 8 lanes: 4 rows x 2 tokens, six loads feed eight FMAs.
__attribute__((target("avx2,fma"))) void dot_4x2(const float* w, size_t ldw, const float* x0, const float* x1, int kc,
                                                 float* acc0, float* acc1) {
  __m256 a[8];
  for (auto& v : a) v = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= kc; k += 8) {
    const __m256 u = _mm256_loadu_ps(x0 + k), v = _mm256_loadu_ps(x1 + k);
    for (int i = 0; i < 4; ++i) {
      const __m256 wi = _mm256_loadu_ps(w + i * ldw + k);
      a[2 * i] = _mm256_fmadd_ps(wi, u, a[2 * i]);
      a[2 * i + 1] = _mm256_fmadd_ps(wi, v, a[2 * i + 1]);
    }
  }
  for (int i = 0; i < 4; ++i) {
    float s0 = hsum(a[2 * i]), s1 = hsum(a[2 * i + 1]);
    for (int j = k; j < kc; ++j) {
      s0 += w[i * ldw + j] * x0[j];
      s1 += w[i * ldw + j] * x1[j];
    }
    acc0[i] += s0;
    acc1[i] += s1;
  }
}

__attribute__((target("avx2,fma"))) void dot_rows4_avx2(const float* w, size_t ldw, const float* x, size_t ldx, int n, int kc, float* acc) {
  for (int t = 0; t < n; t += 2) {
    const int u = std::min(t + 1, n - 1);  // an odd last token pairs with itself
    float dummy[4] = {0, 0, 0, 0};
    dot_4x2(w, ldw, x + t * ldx, x + u * ldx, kc, acc + t * 4, u == t ? dummy : acc + u * 4);
  }
}

void dot_rows4_scalar(const float* w, size_t ldw, const float* x, size_t ldx, int n, int kc, float* acc) {
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < 4; ++i) {
      float s = 0;
      for (int k = 0; k < kc; ++k) s += w[i * ldw + k] * x[t * ldx + k];
      acc[t * 4 + i] += s;
    }
}

KernelLevel detect() {
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512vbmi"))
    return __builtin_cpu_supports("avx512bf16") ? KernelLevel::avx512_bf16 : KernelLevel::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return KernelLevel::avx2;
  return KernelLevel::scalar;
}

const KernelLevel g_best = detect();
KernelLevel g_level = g_best;

}  // namespace

KernelLevel best_kernel_level() { return g_best; }
KernelLevel kernel_level() { return g_level; }
void set_kernel_level(KernelLevel level) { g_level = std::min(level, g_best); }
const char* kernel_level_name(KernelLevel level) {
  switch (level) {
    case KernelLevel::scalar: return "scalar";
    case KernelLevel::avx2: return "avx2";
    case KernelLevel::avx512: return "avx512";
    case KernelLevel::avx512_bf16: return "avx512-bf16";
  }
  return "?";
}

void expand_row(const Linear& w, int row, float* dst, int k0, int k1) {
  if (w.format == WeightFormat::F32)
    return static_cast<void>(std::memcpy(dst, w.data + (static_cast<size_t>(row) * w.in + k0) * 4, static_cast<size_t>(k1 - k0) * 4));
  if (g_level >= KernelLevel::avx512) switch (w.format) {
      case WeightFormat::BF16: return avx512::expand_bf16(w, row, dst, k0, k1);
      case WeightFormat::FP8Block: return avx512::expand_fp8(w, row, dst, k0, k1);
      case WeightFormat::FP4Group: return avx512::expand_fp4(w, row, dst, k0, k1);
      default: break;
    }
  if (g_level >= KernelLevel::avx2) switch (w.format) {
      case WeightFormat::BF16: return expand_bf16(w, row, dst, k0, k1);
      case WeightFormat::FP8Block: return expand_fp8(w, row, dst, k0, k1);
      case WeightFormat::FP4Group: return expand_fp4(w, row, dst, k0, k1);
      default: break;
    }
  if (k0 == 0 && k1 == w.in) return w.dequantize_row(row, dst);
  thread_local std::vector<float> full;
  full.resize(w.in);
  w.dequantize_row(row, full.data());
  std::copy(full.begin() + k0, full.begin() + k1, dst);
}

float row_dot(const Linear& w, int row, const float* x) {
  if (g_level == KernelLevel::scalar) return row_dot_generic(w, row, x);
  if (g_level >= KernelLevel::avx512) switch (w.format) {
      case WeightFormat::BF16: return avx512::row_dot_bf16(w, row, x);
      case WeightFormat::FP8Block:
      case WeightFormat::FP4Group: {
        float y;
        rows_dot(w, row, row + 1, x, &y);
        return y;
      }
      default: break;
    }
  switch (w.format) {
    case WeightFormat::F32: return row_dot_f32(w, row, x);
    case WeightFormat::BF16: return row_dot_bf16(w, row, x);
    case WeightFormat::FP8Block: return row_dot_fp8(w, row, x);
    case WeightFormat::FP4Group: return row_dot_fp4(w, row, x);
  }
  return row_dot_generic(w, row, x);
}

void rows_dot(const Linear& w, int r0, int r1, const float* x, float* y) {
  if (w.format == WeightFormat::FP4Group) {
    if (g_level == KernelLevel::avx512_bf16) return bf16dot::rows_dot_fp4(w, r0, r1, x, y);
    if (g_level == KernelLevel::avx512) return avx512::rows_dot_fp4(w, r0, r1, x, y);
  }
  if (w.format == WeightFormat::FP8Block && g_level >= KernelLevel::avx512) return avx512::rows_dot_fp8(w, r0, r1, x, y);
  for (int r = r0; r < r1; ++r) y[r - r0] = row_dot(w, r, x);
}

void dot_rows4(const float* w, size_t ldw, const float* x, size_t ldx, int n, int kc, float* acc) {
  if (g_level >= KernelLevel::avx512) return avx512::dot_rows4(w, ldw, x, ldx, n, kc, acc);
  if (g_level == KernelLevel::avx2) return dot_rows4_avx2(w, ldw, x, ldx, n, kc, acc);
  dot_rows4_scalar(w, ldw, x, ldx, n, kc, acc);
}

}  // namespace dsv4::engine
