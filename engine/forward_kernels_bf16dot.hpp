#pragma once
// The FP4 decode kernel on AVX512-BF16 dot products (VDPBF16PS); call only when the CPU has
// AVX512-BF16 (forward_kernels.cpp checks).
//
// Every e2m1 code is exactly a bfloat16, so the weights lose nothing. The activations are split
// into two bfloat16 halves, x = hi + lo with |x - hi - lo| <= 2^-18 |x|, and each weight meets
// both: a product is off by at most 2^-18 of itself, within the 1e-5 the fused kernels promise.
// That costs two dot-product instructions per 32 weights against four FMAs plus four table
// lookups on float32, which is what made FP4 the slowest format to decode.
#include "engine/quant.hpp"

namespace dsv4::engine::bf16dot {

// y[r - r0] = row r . x for r in [r0, r1).
void rows_dot_fp4(const Linear& w, int r0, int r1, const float* x, float* y);

}  // namespace dsv4::engine::bf16dot
