#include "engine/forward_kernels.hpp"

// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_* placeholders
// (GCC bug 105593, fixed in 13); the warning points into the header, so it is silenced there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>
#include <vector>

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

__attribute__((target("avx2,fma"))) float row_dot_fp8(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
  const uint8_t* s = w.scale + static_cast<size_t>(row / 128) * w.scale_cols;
  float total = 0;
  for (int k0 = 0; k0 < w.in; k0 += 128) {
    const int k1 = std::min(w.in, k0 + 128);
    __m256 acc = _mm256_setzero_ps();
    int k = k0;
    for (; k + 8 <= k1; k += 8) acc = _mm256_fmadd_ps(e4m3x8(p + k), _mm256_loadu_ps(x + k), acc);
    float block = hsum(acc) * 0x1p120f;
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

__attribute__((target("avx2,fma"))) void expand_fp8(const Linear& w, int row, float* dst) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
  const uint8_t* s = w.scale + static_cast<size_t>(row / 128) * w.scale_cols;
  for (int k0 = 0; k0 < w.in; k0 += 128) {
    const int k1 = std::min(w.in, k0 + 128);
    const float sc = e8m0_to_float(s[k0 / 128]);
    const __m256 scale = _mm256_set1_ps(sc * 0x1p120f);
    int k = k0;
    for (; k + 8 <= k1; k += 8) _mm256_storeu_ps(dst + k, _mm256_mul_ps(e4m3x8(p + k), scale));
    for (; k < k1; ++k) dst[k] = e4m3_to_float(p[k]) * sc;
  }
}

__attribute__((target("avx2,fma"))) void expand_fp4(const Linear& w, int row, float* dst) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * (w.in / 2);
  const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
  const __m256 table = _mm256_setr_ps(0, 0.5f, 1, 1.5f, 2, 3, 4, 6);
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  for (int g = 0; g < w.in / 32; ++g) {
    const __m256 scale = _mm256_set1_ps(e8m0_to_float(s[g]));
    for (int j = 0; j < 4; ++j) {
      uint32_t u;
      std::memcpy(&u, p + g * 16 + j * 4, 4);
      const __m256i codes = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(u)), shifts), _mm256_set1_epi32(15));
      const __m256 mag = _mm256_permutevar8x32_ps(table, codes);
      const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(codes, _mm256_set1_epi32(8)), 28);
      const __m256 v = _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(mag), sign));
      _mm256_storeu_ps(dst + g * 32 + j * 8, _mm256_mul_ps(v, scale));
    }
  }
}

__attribute__((target("avx2,fma"))) void expand_bf16(const Linear& w, int row, float* dst) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 2;
  int k = 0;
  for (; k + 8 <= w.in; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * k));
    _mm256_storeu_ps(dst + k, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
  }
  for (; k < w.in; ++k) {
    uint16_t b;
    std::memcpy(&b, p + 2 * k, 2);
    dst[k] = bf16_to_float(b);
  }
}

#define DSV4_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

DSV4_AVX512 float row_dot_fp8_512(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
  const uint8_t* s = w.scale + static_cast<size_t>(row / 128) * w.scale_cols;
  __m512 total = _mm512_setzero_ps();
  float tail = 0;
  for (int k0 = 0; k0 < w.in; k0 += 128) {
    const int k1 = std::min(w.in, k0 + 128);
    const float sc = e8m0_to_float(s[k0 / 128]);
    __m512 acc = _mm512_setzero_ps();
    int k = k0;
    for (; k + 16 <= k1; k += 16) {
      const __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)));
      const __m512i mag = _mm512_slli_epi32(_mm512_and_si512(b, _mm512_set1_epi32(0x7f)), 20);
      const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(b, _mm512_set1_epi32(0x80)), 24);
      acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_or_si512(mag, sign)), _mm512_loadu_ps(x + k), acc);
    }
    total = _mm512_fmadd_ps(acc, _mm512_set1_ps(sc * 0x1p120f), total);
    for (; k < k1; ++k) tail += e4m3_to_float(p[k]) * x[k] * sc;
  }
  return _mm512_reduce_add_ps(total) + tail;
}

DSV4_AVX512 float row_dot_fp4_512(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * (w.in / 2);
  const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
  const __m512 table = _mm512_setr_ps(0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6);
  const __m128i mask = _mm_set1_epi8(15);
  __m512 total = _mm512_setzero_ps();
  for (int g = 0; g < w.in / 32; ++g) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + g * 16));
    const __m128i lo = _mm_and_si128(bytes, mask), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
    const __m512 a = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi)), table);
    const __m512 b = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi8(lo, hi)), table);
    __m512 acc = _mm512_mul_ps(a, _mm512_loadu_ps(x + g * 32));
    acc = _mm512_fmadd_ps(b, _mm512_loadu_ps(x + g * 32 + 16), acc);
    total = _mm512_fmadd_ps(acc, _mm512_set1_ps(e8m0_to_float(s[g])), total);
  }
  return _mm512_reduce_add_ps(total);
}

DSV4_AVX512 float row_dot_bf16_512(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 2;
  __m512 acc = _mm512_setzero_ps();
  int k = 0;
  for (; k + 16 <= w.in; k += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * k));
    acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)), _mm512_loadu_ps(x + k), acc);
  }
  float t = _mm512_reduce_add_ps(acc);
  for (; k < w.in; ++k) {
    uint16_t b;
    std::memcpy(&b, p + 2 * k, 2);
    t += bf16_to_float(b) * x[k];
  }
  return t;
}

KernelLevel detect() {
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return KernelLevel::avx512;
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
  return level == KernelLevel::avx512 ? "avx512" : level == KernelLevel::avx2 ? "avx2" : "scalar";
}

void expand_row(const Linear& w, int row, float* dst) {
  const bool simd = g_level >= KernelLevel::avx2;
  if (simd && w.format == WeightFormat::FP8Block) return expand_fp8(w, row, dst);
  if (simd && w.format == WeightFormat::FP4Group) return expand_fp4(w, row, dst);
  if (simd && w.format == WeightFormat::BF16) return expand_bf16(w, row, dst);
  w.dequantize_row(row, dst);
}

float row_dot(const Linear& w, int row, const float* x) {
  if (g_level == KernelLevel::scalar) return row_dot_generic(w, row, x);
  if (g_level == KernelLevel::avx512) switch (w.format) {
      case WeightFormat::BF16: return row_dot_bf16_512(w, row, x);
      case WeightFormat::FP8Block: return row_dot_fp8_512(w, row, x);
      case WeightFormat::FP4Group: return row_dot_fp4_512(w, row, x);
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

}  // namespace dsv4::engine
