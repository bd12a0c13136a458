#include "engine/forward_kernels_bf16dot.hpp"

#include "engine/simd.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#define DSV4_BF16DOT __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace dsv4::engine::bf16dot {
namespace {

// code -> bfloat16 bits of its e2m1 value; vpermw reads the low five bits of an index word, so
// the table repeats after 16: the fifth bit belongs to the next nibble.
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

// 64 code bytes as two 32-byte loads: a 64-byte load that misses the cache streamed at half the
// speed of two 32-byte ones on the Zen 5 this was measured on (11 against 22 GB/s).
DSV4_BF16DOT __m512i load_codes(const uint8_t* p, int bytes) {
  if (bytes >= 64)
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), 1);
  return _mm512_maskz_loadu_epi8((1ull << bytes) - 1, p);  // a row's short last chunk
}

// x in the order the chunks meet it (see rows_dot_fp4): per 128 columns, class m = columns
// 4j + m (j = 0..31) for m = 0..3, each as bfloat16 hi and lo halves; zero past the row's end.
DSV4_BF16DOT void prepare_x(const float* x, int in, int padded, uint16_t* xh, uint16_t* xl) {
  // Class m of 32 consecutive floats (two vectors) is their elements m, m + 4, ..., m + 28.
  __m512i every4th[4];
  for (int m = 0; m < 4; ++m) every4th[m] = _mm512_add_epi32(_mm512_set1_epi32(m), _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28));
  for (int c = 0; c < padded; c += 128) {
    __m512 v[8];
    for (int i = 0; i < 8; ++i) {
      const int k = c + 16 * i;  // in is a multiple of 32: a vector is whole or past the end
      v[i] = k < in ? _mm512_loadu_ps(x + k) : _mm512_setzero_ps();
    }
    for (int m = 0; m < 4; ++m) {
      __m512 half[2];  // class m of columns 0-63, then of 64-127
      for (int h = 0; h < 2; ++h) {
        const __m512 a = _mm512_permutex2var_ps(v[4 * h], every4th[m], v[4 * h + 1]);
        const __m512 b = _mm512_permutex2var_ps(v[4 * h + 2], every4th[m], v[4 * h + 3]);
        half[h] = _mm512_shuffle_f32x4(a, b, 0x44);  // the low eight lanes of each
      }
      split32(half[0], half[1], xh + c + 32 * m, xl + c + 32 * m);
    }
  }
}

// One 128-column chunk of R rows (see rows_dot_fp4), added to tot with its four groups' scales
// (sc: lanes 4g..4g+3 hold group g's).
template <int R>
DSV4_BF16DOT inline __attribute__((always_inline)) void chunk(const uint8_t* const* p, int c, int bytes, __m512i table,
                                                              const uint16_t* xh, const uint16_t* xl, const __m512* sc, __m512* tot) {
  __m512i codes[R];
  __m512 acc[R];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(p[r]) + c / 2 + kPrefetchAhead, _MM_HINT_T0);
    codes[r] = load_codes(p[r] + c / 2, bytes);
    acc[r] = _mm512_setzero_ps();
  }
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {
    const __m512bh h = xv(xh + c + 32 * m), l = xv(xl + c + 32 * m);
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      const __m512i idx = m ? _mm512_srli_epi16(codes[r], 4 * m) : codes[r];
      const __m512bh wm = reinterpret_cast<__m512bh>(_mm512_permutexvar_epi16(idx, table));
      acc[r] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(acc[r], wm, h), wm, l);
    }
  }
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) tot[r] = _mm512_fmadd_ps(acc[r], sc[r], tot[r]);
}

// R rows (1 or 2) against x: the rows share every load of x, which would otherwise outnumber the
// weights' own loads eight to one.
template <int R>
DSV4_BF16DOT inline __attribute__((always_inline)) void dot_rows(const Linear& w, int row, __m512i table, const uint16_t* xh,
                                                                 const uint16_t* xl, float* y) {
  const int in = w.in, groups = in / 32, padded = (in + 127) / 128 * 128;
  const size_t row_bytes = static_cast<size_t>(in) / 2;
  const uint8_t *p[R], *s[R];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    p[r] = w.data + static_cast<size_t>(row + r) * row_bytes;
    s[r] = w.scale + static_cast<size_t>(row + r) * w.scale_cols;
    // The scales are a second stream, a row's worth (in / 32 bytes) at each row's start: asked
    // for rows ahead, as the codes are.
    for (int b = 0; b < groups; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(s[r]) + static_cast<size_t>(kScaleRowsAhead) * w.scale_cols + b, _MM_HINT_T0);
  }
  // Lane i of a chunk's dot products holds columns 8i..8i+7: lanes 4g..4g+3 are its group g.
  __m512i quad[4];
  for (int q = 0; q < 4; ++q) quad[q] = _mm512_add_epi32(_mm512_set1_epi32(4 * q), _mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 2));
  __m512 tot[R], sc[R], sixteen[R];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) tot[r] = _mm512_setzero_ps();
  // 512 columns (four chunks, sixteen scales) a step, then the chunks left, the last maybe short.
  int c = 0;
  for (; c + 512 <= in; c += 512) {
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) sixteen[r] = e8m0x16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s[r] + c / 32)));
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r) sc[r] = _mm512_permutexvar_ps(quad[q], sixteen[r]);
      chunk<R>(p, c + 128 * q, 64, table, xh, xl, sc, tot);
    }
  }
  for (; c < padded; c += 128) {
    // The groups past a short last chunk's end read as byte 0: a finite scale for zero codes.
    const __mmask16 have = static_cast<__mmask16>((1u << std::min(4, groups - c / 32)) - 1);
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) sc[r] = _mm512_permutexvar_ps(quad[0], e8m0x16(_mm_maskz_loadu_epi8(have, s[r] + c / 32)));
    chunk<R>(p, c, std::min(64, (in - c) / 2), table, xh, xl, sc, tot);
  }
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) y[r] = _mm512_reduce_add_ps(tot[r]);
}

}  // namespace

// A 128-column chunk is 64 code bytes, seen as 32 words: word j holds columns 4j..4j+3, one
// nibble each. vpermw looks a word up by its low five bits, so the word shifted right by 4m
// gives the bfloat16 weights of columns 4j + m for all j: four lookups a chunk, no widening.
// The table repeats after 16 entries, so the fifth bit (the next nibble's) does not matter.
DSV4_BF16DOT void rows_dot_fp4(const Linear& w, int r0, int r1, const float* x, float* y) {
  const int padded = (w.in + 127) / 128 * 128;
  thread_local std::vector<uint16_t> xh, xl;
  xh.resize(padded);
  xl.resize(padded);
  prepare_x(x, w.in, padded, xh.data(), xl.data());
  const __m512i table = fp4_bf16_table();
  int row = r0;
  for (; row + 2 <= r1; row += 2) dot_rows<2>(w, row, table, xh.data(), xl.data(), y + (row - r0));
  if (row < r1) dot_rows<1>(w, row, table, xh.data(), xl.data(), y + (row - r0));
}

}  // namespace dsv4::engine::bf16dot
