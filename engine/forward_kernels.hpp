#pragma once
// Fused dequantize-and-dot kernels: one row of a stored matrix against one activation vector,
// without expanding the row to float32 first (the decode path, where each row is used once).
#include "engine/quant.hpp"

namespace dsv4::engine {

// sum_k W[row, k] * x[k], W in its stored format.
float row_dot(const Linear& w, int row, const float* x);

// Linear::dequantize_row, vectorised: the same values bit for bit (every step is exact).
void expand_row(const Linear& w, int row, float* dst);

// True when the AVX2 kernels are in use (the CPU has AVX2 and FMA).
bool simd_kernels();

}  // namespace dsv4::engine
