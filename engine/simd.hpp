#pragma once
// What the engine's SIMD code shares: <immintrin.h> without GCC 12's false warnings, the decode
// kernels' prefetch distances and the E8M0 scale conversion.

// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_* placeholders
// (GCC bug 105593, fixed in 13); the warning points into the header, so it is silenced there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace dsv4::engine {

// Decoding streams each weight row once from memory; the hardware prefetcher alone keeps too
// few lines in flight for a kernel that also computes, so the kernels ask this far ahead (bytes,
// into the next rows near a row's end): 4 KiB read 10-20% faster than 1 or 2 KiB here.
constexpr int kPrefetchAhead = 4096;
// Row-wise scales (FP4) are a second stream, read a row's worth at each row's start.
constexpr int kScaleRowsAhead = 4;

// 16 E8M0 scale bytes -> 2^(b - 127) as floats: each byte shifted into the exponent field, but
// for 0 (2^-127, a subnormal) and 255 (NaN), as e8m0_to_float.
__attribute__((target("avx512f,avx512bw"))) inline __m512 e8m0x16(__m128i bytes) {
  __m512i v = _mm512_slli_epi32(_mm512_cvtepu8_epi32(bytes), 23);
  v = _mm512_mask_mov_epi32(v, _mm512_cmpeq_epi32_mask(v, _mm512_setzero_si512()), _mm512_set1_epi32(0x00400000));
  v = _mm512_mask_mov_epi32(v, _mm512_cmpeq_epi32_mask(v, _mm512_set1_epi32(0x7F800000)), _mm512_set1_epi32(0x7FC00000));
  return _mm512_castsi512_ps(v);
}

}  // namespace dsv4::engine
