#pragma once
// Fused dequantize-and-dot kernels: one row of a stored matrix against one activation vector,
// without expanding the row to float32 first (the decode path, where each row is used once).
#include "engine/quant.hpp"

namespace dsv4::engine {

// sum_k W[row, k] * x[k], W in its stored format.
float row_dot(const Linear& w, int row, const float* x);

// Linear::dequantize_row, vectorised: the same values bit for bit (every step is exact).
void expand_row(const Linear& w, int row, float* dst);

// Instruction sets of the kernels: the best the CPU has is used; tests and benchmarks may step
// down to compare (set_kernel_level never goes above what the CPU supports).
enum class KernelLevel { scalar, avx2, avx512 };
KernelLevel best_kernel_level();
KernelLevel kernel_level();
void set_kernel_level(KernelLevel level);
const char* kernel_level_name(KernelLevel level);

}  // namespace dsv4::engine
