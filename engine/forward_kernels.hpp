#pragma once
// Fused dequantize-and-dot kernels: one row of a stored matrix against one activation vector,
// without expanding the row to float32 first (the decode path, where each row is used once).
#include <cstddef>

#include "engine/quant.hpp"

namespace dsv4::engine {

// sum_k W[row, k] * x[k], W in its stored format.
float row_dot(const Linear& w, int row, const float* x);
// y[r - r0] = row_dot(w, r, x) for rows [r0, r1): the decode path, preparing x once for them all.
void rows_dot(const Linear& w, int r0, int r1, const float* x, float* y);

// Linear::dequantize_row, vectorised: the same values bit for bit (one rounding, as there).
// Columns [k0, k1) into dst[0..k1-k0); k0 a multiple of 128, k1 too or the row's end.
void expand_row(const Linear& w, int row, float* dst, int k0, int k1);
inline void expand_row(const Linear& w, int row, float* dst) { expand_row(w, row, dst, 0, w.in); }

// The prefill block product on expanded rows: acc[t * 4 + i] += sum_{k < kc} w[i * ldw + k] * x[t * ldx + k]
// for 4 rows i and n tokens t.
void dot_rows4(const float* w, size_t ldw, const float* x, size_t ldx, int n, int kc, float* acc);

// Instruction sets of the kernels: the best the CPU has is used; tests and benchmarks may step
// down to compare (set_kernel_level never goes above what the CPU supports). avx512_bf16 is
// avx512 with FP4 decoding on bfloat16 dot products (forward_kernels_bf16dot.hpp).
enum class KernelLevel { scalar, avx2, avx512, avx512_bf16 };
inline constexpr KernelLevel kKernelLevels[] = {KernelLevel::scalar, KernelLevel::avx2, KernelLevel::avx512, KernelLevel::avx512_bf16};
KernelLevel best_kernel_level();
KernelLevel kernel_level();
void set_kernel_level(KernelLevel level);
const char* kernel_level_name(KernelLevel level);

}  // namespace dsv4::engine
