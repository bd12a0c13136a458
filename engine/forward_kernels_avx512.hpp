#pragma once
// AVX-512 (F, BW, VL, VBMI) versions of the kernels in forward_kernels.hpp; call only when the
// CPU has them (forward_kernels.cpp checks).
#include <cstddef>

#include "engine/quant.hpp"

namespace dsv4::engine::avx512 {

// y[r - r0] = row r . x for r in [r0, r1).
void rows_dot_fp4(const Linear& w, int r0, int r1, const float* x, float* y);
void rows_dot_fp8(const Linear& w, int r0, int r1, const float* x, float* y);
float row_dot_bf16(const Linear& w, int row, const float* x);

// n E8M0 scale bytes as floats.
void scales_to_float(const uint8_t* s, int n, float* dst);

// Columns [k0, k1) of a row into dst[0..k1-k0); k0 and k1 on scale-block edges (or k1 = in).
void expand_fp4(const Linear& w, int row, float* dst, int k0, int k1);
void expand_fp8(const Linear& w, int row, float* dst, int k0, int k1);
void expand_bf16(const Linear& w, int row, float* dst, int k0, int k1);

void dot_rows4(const float* w, size_t ldw, const float* x, size_t ldx, int n, int kc, float* acc);

}  // namespace dsv4::engine::avx512
