#pragma once
// The engine's worker threads: one fixed pool that every parallel loop of the forward pass uses.
#include <cstddef>
#include <functional>

namespace dsv4::engine {

// Runs fn(begin, end) over [0, n) in contiguous chunks on the pool; the caller works too.
void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn);
void set_thread_count(int threads);  // 0 = hardware concurrency
int thread_count();

}  // namespace dsv4::engine
