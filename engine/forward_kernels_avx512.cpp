// The AVX-512 kernels (F, BW, VL, VBMI): fused dequantize-and-dot for decoding, row expansion
// and the 4-row block product for prefill. Declared in forward_kernels_avx512.hpp, chosen by
// forward_kernels.cpp at run time.
#include "engine/forward_kernels_avx512.hpp"

#include "engine/simd.hpp"

#include <cstring>
#include <vector>

#define DSV4_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx2,fma")))

namespace dsv4::engine::avx512 {
namespace {

// e2m1 code -> value; vpermps looks up with the low four bits of each lane only.
DSV4_AVX512 __m512 fp4_table() {
  return _mm512_setr_ps(0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6);
}

// vpmultishiftqb controls that put nibble i of a qword (broadcast to every qword) into the low
// bits of lane i: lane 2q takes bits 8q.., lane 2q+1 bits 8q+4.. (upper bits do not matter).
DSV4_AVX512 __m512i nibble_select() {
  alignas(64) uint8_t c[64] = {};
  for (int q = 0; q < 8; ++q) {
    c[8 * q] = static_cast<uint8_t>(8 * q);
    c[8 * q + 4] = static_cast<uint8_t>(8 * q + 4);
  }
  return _mm512_load_si512(c);
}

// 16 FP4 codes (8 bytes, low nibble first) -> 16 floats in column order: two instructions.
DSV4_AVX512 __m512 fp4x16(const uint8_t* p, __m512i select, __m512 table) {
  int64_t raw;
  std::memcpy(&raw, p, 8);
  return _mm512_permutexvar_ps(_mm512_multishift_epi64_epi8(select, _mm512_set1_epi64(raw)), table);
}

// 16 FP4 codes in the order 0, 8, 1, 9, ..., 7, 15: one shift, one shuffle (see rows_dot_fp4).
DSV4_AVX512 __m512 fp4x16_paired(const uint8_t* p, __m512i shifts, __m512 table) {
  int64_t raw;
  std::memcpy(&raw, p, 8);
  return _mm512_permutexvar_ps(_mm512_srlv_epi64(_mm512_set1_epi64(raw), shifts), table);
}

// 16 e4m3 bytes -> float bits scaled by 2^-120: sign extension puts the sign in bit 31 after the
// shift, the 7 magnitude bits land on exponent and mantissa (the block scale absorbs the 2^120).
DSV4_AVX512 __m512 e4m3x16(const uint8_t* p) {
  const __m512i b = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(b, 20), _mm512_set1_epi32(static_cast<int>(0x87F00000u))));
}

DSV4_AVX512 __m512 bf16x16(const uint8_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

}  // namespace

DSV4_AVX512 void scales_to_float(const uint8_t* s, int n, float* dst) {
  int i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, e8m0x16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
  for (; i < n; ++i) dst[i] = e8m0_to_float(s[i]);
}

// Decoding FP4 is bound by shuffles, so each 16 codes take one: a qword of codes broadcast to
// every lane pair, shifted right by 4q in pair q, leaves code q in lane 2q and code q + 8 in
// lane 2q + 1 (vpermps reads only the low four bits). x is put in that order once per call.
DSV4_AVX512 void rows_dot_fp4(const Linear& w, int r0, int r1, const float* x, float* y) {
  const int groups = w.in / 32;
  thread_local std::vector<float> xs, scales;
  xs.resize(w.in);
  scales.resize(groups);
  const __m512i order = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  for (int k = 0; k < w.in; k += 16) _mm512_storeu_ps(xs.data() + k, _mm512_permutexvar_ps(order, _mm512_loadu_ps(x + k)));
  const __m512i shifts = _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28);
  const __m512 table = fp4_table();
  const float* xp = xs.data();
  for (int row = r0; row < r1; ++row) {
    const uint8_t* p = w.data + static_cast<size_t>(row) * (w.in / 2);
    const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
    // The row's scales as floats first, so each group's FMA takes its scale as a broadcast
    // memory operand. The scales are a second stream from memory: fetched a few rows ahead.
    for (int b = 0; b < groups; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(s + static_cast<size_t>(kScaleRowsAhead) * w.scale_cols + b), _MM_HINT_T0);
    scales_to_float(s, groups, scales.data());
    const float* sc = scales.data();
    __m512 tot[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int g = 0;
    for (; g + 4 <= groups; g += 4) {
      _mm_prefetch(reinterpret_cast<const char*>(p) + g * 16 + kPrefetchAhead, _MM_HINT_T0);  // one line per step
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const uint8_t* q = p + static_cast<size_t>(g + j) * 16;
        const float* xg = xp + static_cast<size_t>(g + j) * 32;
        const __m512 acc = _mm512_fmadd_ps(fp4x16_paired(q + 8, shifts, table), _mm512_loadu_ps(xg + 16), _mm512_mul_ps(fp4x16_paired(q, shifts, table), _mm512_loadu_ps(xg)));
        tot[j] = _mm512_fmadd_ps(acc, _mm512_set1_ps(sc[g + j]), tot[j]);
      }
    }
    for (; g < groups; ++g) {
      const uint8_t* q = p + static_cast<size_t>(g) * 16;
      const float* xg = xp + static_cast<size_t>(g) * 32;
      const __m512 acc = _mm512_fmadd_ps(fp4x16_paired(q + 8, shifts, table), _mm512_loadu_ps(xg + 16), _mm512_mul_ps(fp4x16_paired(q, shifts, table), _mm512_loadu_ps(xg)));
      tot[0] = _mm512_fmadd_ps(acc, _mm512_set1_ps(sc[g]), tot[0]);
    }
    y[row - r0] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(tot[0], tot[1]), _mm512_add_ps(tot[2], tot[3])));
  }
}

// 128 columns of one FP8 row against x, unscaled.
DSV4_AVX512 inline __attribute__((always_inline)) __m512 fp8_block(const uint8_t* p, const float* x) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int k = 0; k < 128; k += 32) {
    a0 = _mm512_fmadd_ps(e4m3x16(p + k), _mm512_loadu_ps(x + k), a0);
    a1 = _mm512_fmadd_ps(e4m3x16(p + k + 16), _mm512_loadu_ps(x + k + 16), a1);
  }
  return _mm512_add_ps(a0, a1);
}

// The last, partial block of a row: masked to its width.
DSV4_AVX512 __m512 fp8_partial_block(const uint8_t* p, const float* x, int width) {
  __m512 a = _mm512_setzero_ps();
  for (int k = 0; k < width; k += 16) {
    const __mmask16 m = k + 16 <= width ? 0xffff : static_cast<__mmask16>((1u << (width - k)) - 1);
    const __m512i b = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p + k));
    const __m512 v = _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(b, 20), _mm512_set1_epi32(static_cast<int>(0x87F00000u))));
    a = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, x + k), a);
  }
  return a;
}

// The weights come out of e4m3x16 as 2^-120 times their value, down to 2^-135 (subnormal
// codes lower still), so products with small activations would fall into float32's subnormal
// range and lose bits. x times 2^64 lifts every product well clear of it (exact: a power of
// two; |x| would have to pass 2^64 to overflow); the block sums are scaled back by 2^56.
// A 128-row band shares its scales: they are converted once per band.
DSV4_AVX512 void rows_dot_fp8(const Linear& w, int r0, int r1, const float* x, float* y) {
  thread_local std::vector<float> lifted, band_scales;
  lifted.resize(w.in);
  band_scales.resize(w.scale_cols);
  int k = 0;
  for (; k + 16 <= w.in; k += 16) _mm512_storeu_ps(lifted.data() + k, _mm512_mul_ps(_mm512_loadu_ps(x + k), _mm512_set1_ps(0x1p64f)));
  for (; k < w.in; ++k) lifted[k] = x[k] * 0x1p64f;
  const float* xl = lifted.data();
  float* sc = band_scales.data();
  const int full = w.in / 128 * 128;
  const __m512 unlift = _mm512_set1_ps(0x1p56f);
  for (int row = r0, band = -1; row < r1; ++row) {
    if (row / 128 != band) {
      band = row / 128;
      scales_to_float(w.scale + static_cast<size_t>(band) * w.scale_cols, w.scale_cols, sc);
    }
    const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
    __m512 total = _mm512_setzero_ps();
    // 2^56 first (exact), then the block scale: no overflow for large scales.
    for (int k0 = 0; k0 < full; k0 += 128) {
      _mm_prefetch(reinterpret_cast<const char*>(p) + k0 + kPrefetchAhead, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p) + k0 + 64 + kPrefetchAhead, _MM_HINT_T0);
      total = _mm512_fmadd_ps(_mm512_mul_ps(fp8_block(p + k0, xl + k0), unlift), _mm512_set1_ps(sc[k0 / 128]), total);
    }
    if (full < w.in)
      total = _mm512_fmadd_ps(_mm512_mul_ps(fp8_partial_block(p + full, xl + full, w.in - full), unlift), _mm512_set1_ps(sc[full / 128]), total);
    y[row - r0] = _mm512_reduce_add_ps(total);
  }
}

DSV4_AVX512 float row_dot_bf16(const Linear& w, int row, const float* x) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 2;
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int k = 0;
  for (; k + 32 <= w.in; k += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(p) + 2 * k + kPrefetchAhead, _MM_HINT_T0);
    a0 = _mm512_fmadd_ps(bf16x16(p + 2 * k), _mm512_loadu_ps(x + k), a0);
    a1 = _mm512_fmadd_ps(bf16x16(p + 2 * k + 32), _mm512_loadu_ps(x + k + 16), a1);
  }
  for (; k < w.in; k += 16) {
    const __mmask16 m = k + 16 <= w.in ? 0xffff : static_cast<__mmask16>((1u << (w.in - k)) - 1);
    const __m512 v = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p + 2 * k)), 16));
    a0 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, x + k), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

DSV4_AVX512 void expand_fp4(const Linear& w, int row, float* dst, int k0, int k1) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * (w.in / 2);
  const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
  const __m512 table = fp4_table();
  const __m512i select = nibble_select();
  for (int g = k0 / 32; g < k1 / 32; ++g) {
    const __m512 sc = _mm512_set1_ps(e8m0_to_float(s[g]));
    float* d = dst + (g * 32 - k0);
    _mm512_storeu_ps(d, _mm512_mul_ps(fp4x16(p + g * 16, select, table), sc));
    _mm512_storeu_ps(d + 16, _mm512_mul_ps(fp4x16(p + g * 16 + 8, select, table), sc));
  }
}

DSV4_AVX512 void expand_fp8(const Linear& w, int row, float* dst, int k0, int k1) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in;
  const uint8_t* s = w.scale + static_cast<size_t>(row / 128) * w.scale_cols;
  for (int b0 = k0; b0 < k1; b0 += 128) {
    const int b1 = std::min(k1, b0 + 128);
    const float sc = e8m0_to_float(s[b0 / 128]);
    // times 2^120 is exact, so one rounding remains, as in the reference.
    const __m512 unbias = _mm512_set1_ps(0x1p120f), scale = _mm512_set1_ps(sc);
    int k = b0;
    for (; k + 16 <= b1; k += 16)
      _mm512_storeu_ps(dst + (k - k0), _mm512_mul_ps(_mm512_mul_ps(e4m3x16(p + k), unbias), scale));
    for (; k < b1; ++k) dst[k - k0] = e4m3_to_float(p[k]) * sc;
  }
}

DSV4_AVX512 void expand_bf16(const Linear& w, int row, float* dst, int k0, int k1) {
  const uint8_t* p = w.data + static_cast<size_t>(row) * w.in * 2;
  int k = k0;
  for (; k + 16 <= k1; k += 16) _mm512_storeu_ps(dst + (k - k0), bf16x16(p + 2 * k));
  for (; k < k1; ++k) {
    uint16_t b;
    std::memcpy(&b, p + 2 * k, 2);
    dst[k - k0] = bf16_to_float(b);
  }
}

namespace {

// Sums of 16 vectors, sums[i] = sum of the lanes of v[i]: halves added, then hadd rounds.
DSV4_AVX512 __m512 reduce16(const __m512 v[16]) {
  __m256 h[16];
  for (int i = 0; i < 16; ++i) h[i] = _mm256_add_ps(_mm512_castps512_ps256(v[i]), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v[i]), 1)));
  __m256 r[2];
  for (int half = 0; half < 2; ++half) {
    const __m256* a = h + 8 * half;
    const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
    r[half] = _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
  }
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(r[0])), _mm256_castps_pd(r[1]), 1));
}

// 4 rows x NT tokens: every loaded vector feeds NT (or 4) FMAs, so the loop is bound by the FMA
// units, not the loads. acc[t * 4 + i] += w_i . x_t.
// One column step of the 4 x NT block (m masks a short last step); unrolled so the 16
// accumulators stay in registers.
template <int NT>
DSV4_AVX512 inline __attribute__((always_inline)) void step_4xN(const float* w, size_t ldw, const float* x, size_t ldx,
                                                                int k, __mmask16 m, __m512* a) {
  __m512 wv[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) wv[i] = _mm512_maskz_loadu_ps(m, w + i * ldw + k);
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) a[t * 4 + i] = _mm512_fmadd_ps(wv[i], xv, a[t * 4 + i]);
  }
}

// 4 rows x NT tokens: every loaded vector feeds NT (or 4) FMAs, so the loop is bound by the FMA
// units, not the loads. acc[t * 4 + i] += w_i . x_t.
template <int NT>
DSV4_AVX512 void dot_4xN(const float* w, size_t ldw, const float* x, size_t ldx, int kc, float* acc) {
  __m512 a[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) a[i] = _mm512_setzero_ps();
  int k = 0;
  for (; k + 16 <= kc; k += 16) step_4xN<NT>(w, ldw, x, ldx, k, 0xffff, a);
  if (k < kc) step_4xN<NT>(w, ldw, x, ldx, k, static_cast<__mmask16>((1u << (kc - k)) - 1), a);
  const __m512 sums = reduce16(a);
  const __mmask16 used = static_cast<__mmask16>((1u << (4 * NT)) - 1);
  _mm512_mask_storeu_ps(acc, used, _mm512_add_ps(_mm512_maskz_loadu_ps(used, acc), sums));
}

}  // namespace

DSV4_AVX512 void dot_rows4(const float* w, size_t ldw, const float* x, size_t ldx, int n, int kc, float* acc) {
  int t = 0;
  for (; t + 4 <= n; t += 4) dot_4xN<4>(w, ldw, x + t * ldx, ldx, kc, acc + t * 4);
  switch (n - t) {
    case 3: dot_4xN<3>(w, ldw, x + t * ldx, ldx, kc, acc + t * 4); break;
    case 2: dot_4xN<2>(w, ldw, x + t * ldx, ldx, kc, acc + t * 4); break;
    case 1: dot_4xN<1>(w, ldw, x + t * ldx, ldx, kc, acc + t * 4); break;
    default: break;
  }
}

}  // namespace dsv4::engine::avx512
