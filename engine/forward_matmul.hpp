#pragma once
// y = W x for a batch of tokens, with W in its stored format. Rows of W are split over a thread
// pool; each row is dequantized once and dotted with every token of the batch.
#include <cstddef>
#include <vector>

#include "engine/quant.hpp"
#include "engine/thread_pool.hpp"

namespace dsv4::engine {

// x: [n, w.in] row-major; y: [n, row_end - row_begin]. Rows [row_begin, row_end) of W.
void matmul(const Linear& w, const float* x, int n, float* y, int row_begin, int row_end);
inline void matmul(const Linear& w, const float* x, int n, float* y) { matmul(w, x, n, y, 0, w.out); }

// One product of a batch: y = W x for n tokens, rows [row_begin, row_end) of W.
struct MatmulJob {
  const Linear* w;
  const float* x;  // [n, w->in]
  int n;
  float* y;  // [n, row_end - row_begin]
  int row_begin, row_end;
};
MatmulJob rows_of(const Linear& w, const float* x, int n, float* y);  // all of W's rows

// Runs independent products. The single-token ones (decoding) share one parallel loop over
// their rows: a token's many small products (experts, projections of one input) then cost one
// hand-off to the workers instead of one each, and no thread idles at each product's end.
void matmul_many(const std::vector<MatmulJob>& jobs);

// c[i * n + j] = a_i . b_j for m rows a_i (stride lda) and n rows b_j (stride ldb), each k long,
// on the prefill's register-blocked kernel: attention's and the indexer's scores and weighted
// sums. Runs on the calling thread (callers split m).
void dot_products(const float* a, size_t lda, int m, const float* b, size_t ldb, int n, int k, float* c);

float dot(const float* a, const float* b, int n);
// sum_i max(a_i, 0) * b_i: a lightning-indexer score, its head products relu'd and weighted.
float relu_dot(const float* a, const float* b, int n);

}  // namespace dsv4::engine
