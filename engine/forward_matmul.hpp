#pragma once
// y = W x for a batch of tokens, with W in its stored format. Rows of W are split over a thread
// pool; each row is dequantized once and dotted with every token of the batch.
#include <cstddef>

#include "engine/quant.hpp"
#include "engine/thread_pool.hpp"

namespace dsv4::engine {

// x: [n, w.in] row-major; y: [n, row_end - row_begin]. Rows [row_begin, row_end) of W.
void matmul(const Linear& w, const float* x, int n, float* y, int row_begin, int row_end);
inline void matmul(const Linear& w, const float* x, int n, float* y) { matmul(w, x, n, y, 0, w.out); }

float dot(const float* a, const float* b, int n);

}  // namespace dsv4::engine
