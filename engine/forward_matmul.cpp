#include "engine/forward_matmul.hpp"

#include "engine/forward_kernels.hpp"

// See forward_kernels.cpp: GCC 12's AVX-512 headers warn about their own placeholders.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace dsv4::engine {
namespace {

// A fixed set of workers that sleep between parallel_for calls; the calling thread works too.
class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(size_t n, const std::function<void(size_t, size_t)>& fn) {
    std::unique_lock<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    chunk_ = std::max<size_t>(1, n / (static_cast<size_t>(size()) * 4));
    next_ = 0;
    busy_ = static_cast<int>(workers_.size());
    ++generation_;
    lock.unlock();
    wake_.notify_all();
    drain();
    lock.lock();
    done_.wait(lock, [this] { return busy_ == 0; });
    fn_ = nullptr;
  }

 private:
  void drain() {
    for (;;) {
      const size_t b = next_.fetch_add(chunk_);
      if (b >= n_) return;
      (*fn_)(b, std::min(n_, b + chunk_));
    }
  }
  void work() {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      lock.unlock();
      drain();
      lock.lock();
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0, chunk_ = 1;
  std::atomic<size_t> next_{0};
  int busy_ = 0;
};

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;

Pool& pool() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<Pool>(std::max(1u, std::thread::hardware_concurrency()));
  return *g_pool;
}

float dot_scalar(const float* a, const float* b, int n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[k + j] * b[k + j];
  float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; k < n; ++k) t += a[k] * b[k];
  return t;
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
  }
  for (; k + 8 <= n; k += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float t = _mm_cvtss_f32(h);
  for (; k < n; ++k) t += a[k] * b[k];
  return t;
}

using DotFn = float (*)(const float*, const float*, int);
const bool g_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
const DotFn g_dot = g_avx2 ? dot_avx2 : dot_scalar;

// out[i * 2 + j] = w[i] . x[j] for 4 rows and 2 tokens: six loads feed eight FMAs, so the loop
// is bound by the FMA units rather than by loads.
__attribute__((target("avx2,fma"))) void dot_4x2(const float* const w[4], const float* x0, const float* x1, int n, float out[8]) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 a = _mm256_loadu_ps(x0 + k), b = _mm256_loadu_ps(x1 + k);
    for (int i = 0; i < 4; ++i) {
      const __m256 wi = _mm256_loadu_ps(w[i] + k);
      acc[2 * i] = _mm256_fmadd_ps(wi, a, acc[2 * i]);
      acc[2 * i + 1] = _mm256_fmadd_ps(wi, b, acc[2 * i + 1]);
    }
  }
  for (int i = 0; i < 8; ++i) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    out[i] = _mm_cvtss_f32(h);
  }
  for (; k < n; ++k)
    for (int i = 0; i < 4; ++i) {
      out[2 * i] += w[i][k] * x0[k];
      out[2 * i + 1] += w[i][k] * x1[k];
    }
}

// The same 4 x 2 block with 16-wide vectors.
__attribute__((target("avx512f,avx2,fma"))) void dot_4x2_512(const float* const w[4], const float* x0, const float* x1, int n,
                                                            float out[8]) {
  __m512 acc[8];
  for (auto& a : acc) a = _mm512_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512 a = _mm512_loadu_ps(x0 + k), b = _mm512_loadu_ps(x1 + k);
    for (int i = 0; i < 4; ++i) {
      const __m512 wi = _mm512_loadu_ps(w[i] + k);
      acc[2 * i] = _mm512_fmadd_ps(wi, a, acc[2 * i]);
      acc[2 * i + 1] = _mm512_fmadd_ps(wi, b, acc[2 * i + 1]);
    }
  }
  for (int i = 0; i < 8; ++i) out[i] = _mm512_reduce_add_ps(acc[i]);
  for (; k < n; ++k)
    for (int i = 0; i < 4; ++i) {
      out[2 * i] += w[i][k] * x0[k];
      out[2 * i + 1] += w[i][k] * x1[k];
    }
}

}  // namespace

float dot(const float* a, const float* b, int n) { return g_dot(a, b, n); }

void set_thread_count(int threads) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_pool = std::make_unique<Pool>(threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency()));
}

int thread_count() { return pool().size(); }

void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  Pool& p = pool();
  if (n == 1 || p.size() == 1) return fn(0, n);
  p.run(n, fn);
}

void matmul(const Linear& w, const float* x, int n, float* y, int row_begin, int row_end) {
  const int rows = row_end - row_begin;
  const size_t in = static_cast<size_t>(w.in);
  // Tiny matrices are not worth waking the pool for.
  const size_t work = static_cast<size_t>(rows) * in * std::max(1, n);
  // One or two tokens (decoding): dequantize inside the dot product, each row is read once anyway.
  auto fused = [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r)
      for (int t = 0; t < n; ++t) y[static_cast<size_t>(t) * rows + r] = row_dot(w, static_cast<int>(row_begin + r), x + t * in);
  };
  // More tokens: expand rows four at a time, then dot them with every token.
  const size_t groups = (static_cast<size_t>(rows) + 3) / 4;
  auto body = [&](size_t gb, size_t ge) {
    thread_local std::vector<float> buf;
    buf.resize(4 * in);
    for (size_t g = gb; g < ge; ++g) {
      const size_t r0 = g * 4, nr = std::min<size_t>(4, rows - r0);
      const float* wr[4];
      for (size_t i = 0; i < 4; ++i) {
        const size_t r = row_begin + r0 + std::min(i, nr - 1);  // a short group repeats its last row
        if (w.format == WeightFormat::F32 && reinterpret_cast<uintptr_t>(w.data) % 4 == 0) {
          wr[i] = reinterpret_cast<const float*>(w.data) + r * in;
        } else {
          if (i < nr) expand_row(w, static_cast<int>(r), buf.data() + i * in);
          wr[i] = buf.data() + std::min(i, nr - 1) * in;
        }
      }
      int t = 0;
      const KernelLevel level = kernel_level();
      if (level >= KernelLevel::avx2)
        for (; t + 2 <= n; t += 2) {
          float out[8];
          (level == KernelLevel::avx512 ? dot_4x2_512 : dot_4x2)(wr, x + t * in, x + (t + 1) * in, w.in, out);
          for (size_t i = 0; i < nr; ++i) {
            y[static_cast<size_t>(t) * rows + r0 + i] = out[2 * i];
            y[static_cast<size_t>(t + 1) * rows + r0 + i] = out[2 * i + 1];
          }
        }
      for (; t < n; ++t)
        for (size_t i = 0; i < nr; ++i) y[static_cast<size_t>(t) * rows + r0 + i] = g_dot(wr[i], x + t * in, w.in);
    }
  };
  if (work < 32768) return n <= 2 ? fused(0, rows) : body(0, groups);
  if (n <= 2) parallel_for(rows, fused);
  else parallel_for(groups, body);
}

}  // namespace dsv4::engine
