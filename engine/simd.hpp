#pragma once
// What the engine's SIMD code shares: <immintrin.h> without GCC 12's false warnings, and the
// decode kernels' prefetch distances.

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

}  // namespace dsv4::engine
