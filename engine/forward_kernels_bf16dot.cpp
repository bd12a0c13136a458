#include "engine/forward_kernels_bf16dot.hpp"

#include "engine/forward_kernels_avx512.hpp"
#include "engine/simd.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#define DSV4_BF16DOT __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace dsv4::engine::bf16dot {
namespace {

// code -> bfloat16 bits of its e2m1 value; vpermw reads the low five bits of an index word, so
// the table repeats after 16 and a word holding a whole code byte looks up its low nibble.
DSV4_BF16DOT __m512i fp4_bf16_table() {
  alignas(64) uint16_t t[32];
  for (int i = 0; i < 32; ++i) {
    const float v = e2m1_to_float(static_cast<uint8_t>(i & 15));
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    t[i] = static_cast<uint16_t>(bits >> 16);
  }
  return _mm512_load_si512(t);
}

DSV4_BF16DOT __m512bh xv(const uint16_t* v) { return reinterpret_cast<__m512bh>(_mm512_loadu_si512(v)); }

DSV4_BF16DOT __m512 bf16_to_f32(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

// 32 floats (a then b) -> their bfloat16 roundings and the bfloat16 roundings of what is left.
DSV4_BF16DOT void split32(__m512 a, __m512 b, uint16_t* hi, uint16_t* lo) {
  const __m512i h = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
  const __m512 ra = _mm512_sub_ps(a, bf16_to_f32(_mm512_castsi512_si256(h)));
  const __m512 rb = _mm512_sub_ps(b, bf16_to_f32(_mm512_extracti64x4_epi64(h, 1)));
  _mm512_storeu_si512(hi, h);
  _mm512_storeu_si512(lo, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(rb, ra)));
}

// The dot products of one 64-column chunk (see rows_dot_fp4), unscaled: lanes 0-7 hold the
// first scale group's share, lanes 8-15 the second's.
template <bool kHalf>  // the last chunk of a row whose width is an odd multiple of 32
DSV4_BF16DOT inline __attribute__((always_inline)) __m512 chunk(const uint8_t* p, int c, __m512i table, const uint16_t* xh, const uint16_t* xl) {
  const __m256i bytes = kHalf ? _mm256_maskz_loadu_epi8(0xffff, p + c / 2) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + c / 2));
  const __m512i codes = _mm512_cvtepu8_epi16(bytes);
  const __m512bh lo = reinterpret_cast<__m512bh>(_mm512_permutexvar_epi16(codes, table));
  const __m512bh hi = reinterpret_cast<__m512bh>(_mm512_permutexvar_epi16(_mm512_srli_epi16(codes, 4), table));
  __m512 a = _mm512_dpbf16_ps(_mm512_setzero_ps(), lo, xv(xh + c));
  a = _mm512_dpbf16_ps(a, lo, xv(xl + c));
  a = _mm512_dpbf16_ps(a, hi, xv(xh + c + 32));
  return _mm512_dpbf16_ps(a, hi, xv(xl + c + 32));
}

}  // namespace

// A 64-column chunk is 32 code bytes. Widened to 16-bit words, word j holds columns 2j (low
// nibble) and 2j + 1 (high nibble); one vpermw per nibble gives 32 bfloat16 weights. x is laid
// out to match once per call: per chunk its even columns, then its odd ones, each as hi and lo.
// Columns 0-31 of a chunk (one scale group) land in the float lanes 0-7 of the dot products,
// columns 32-63 in lanes 8-15, so a chunk's sum is scaled by a vector holding its two scales.
DSV4_BF16DOT void rows_dot_fp4(const Linear& w, int r0, int r1, const float* x, float* y) {
  const int in = w.in, groups = in / 32, padded = (in + 63) / 64 * 64;
  thread_local std::vector<uint16_t> xh, xl;
  thread_local std::vector<float> scales;
  xh.resize(padded);
  xl.resize(padded);
  scales.resize(padded / 32);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int c = 0; c < padded; c += 64) {
    __m512 v[4];
    for (int i = 0; i < 4; ++i) {
      const int k = c + 16 * i;
      v[i] = k < in ? _mm512_loadu_ps(x + k) : _mm512_setzero_ps();  // in is a multiple of 32
    }
    split32(_mm512_permutex2var_ps(v[0], even, v[1]), _mm512_permutex2var_ps(v[2], even, v[3]), xh.data() + c, xl.data() + c);
    split32(_mm512_permutex2var_ps(v[0], odd, v[1]), _mm512_permutex2var_ps(v[2], odd, v[3]), xh.data() + c + 32, xl.data() + c + 32);
  }
  const __m512i table = fp4_bf16_table();
  const __m512i pairs[4] = {_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                            _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
                            _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5),
                            _mm512_setr_epi32(6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7)};
  const size_t row_bytes = static_cast<size_t>(in) / 2;
  const uint16_t *hp = xh.data(), *lp = xl.data();
  float* sp = scales.data();
  for (int row = r0; row < r1; ++row) {
    const uint8_t* p = w.data + static_cast<size_t>(row) * row_bytes;
    const uint8_t* s = w.scale + static_cast<size_t>(row) * w.scale_cols;
    // The scales are a second stream, a row's worth (in / 32 bytes) at each row's start: asked
    // for rows ahead, as the codes are.
    for (int b = 0; b < groups; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(s) + static_cast<size_t>(kScaleRowsAhead) * w.scale_cols + b, _MM_HINT_T0);
    avx512::scales_to_float(s, groups, sp);
    std::fill(sp + groups, sp + scales.size(), 0.0f);  // the missing half of a last chunk
    __m512 tot0 = _mm512_setzero_ps(), tot1 = _mm512_setzero_ps();
    // Steps of 256 columns (128 bytes, two cache lines, eight scales), then 64 at a time.
    int c = 0;
    for (; c + 256 <= padded; c += 256) {
      _mm_prefetch(reinterpret_cast<const char*>(p) + c / 2 + kPrefetchAhead, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p) + c / 2 + 64 + kPrefetchAhead, _MM_HINT_T0);
      const __m512 eight = _mm512_castps256_ps512(_mm256_loadu_ps(sp + c / 32));
      tot0 = _mm512_fmadd_ps(chunk<false>(p, c, table, hp, lp), _mm512_permutexvar_ps(pairs[0], eight), tot0);
      tot1 = _mm512_fmadd_ps(chunk<false>(p, c + 64, table, hp, lp), _mm512_permutexvar_ps(pairs[1], eight), tot1);
      tot0 = _mm512_fmadd_ps(chunk<false>(p, c + 128, table, hp, lp), _mm512_permutexvar_ps(pairs[2], eight), tot0);
      tot1 = _mm512_fmadd_ps(chunk<false>(p, c + 192, table, hp, lp), _mm512_permutexvar_ps(pairs[3], eight), tot1);
    }
    for (; c < padded; c += 64) {
      const __m512 two = _mm512_castps128_ps512(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(sp + c / 32))));
      const __m512 a = c + 64 <= in ? chunk<false>(p, c, table, hp, lp) : chunk<true>(p, c, table, hp, lp);
      tot0 = _mm512_fmadd_ps(a, _mm512_permutexvar_ps(pairs[0], two), tot0);
    }
    y[row - r0] = _mm512_reduce_add_ps(_mm512_add_ps(tot0, tot1));
  }
}

}  // namespace dsv4::engine::bf16dot
