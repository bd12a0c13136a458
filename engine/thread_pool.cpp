#include "engine/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace dsv4::engine {
namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Decoding one token runs a few hundred parallel loops of 50-300 microseconds each. Waking a
// sleeping thread takes 20-50 microseconds on a virtual machine, so workers spin this long for
// the next loop before they sleep: a token's loops then find them awake, and an idle engine
// costs at most this much CPU after its last loop.
constexpr auto kSpin = std::chrono::milliseconds(2);
constexpr int kPureSpins = 1024;  // pause instructions before a spinning thread starts yielding

// A fixed set of workers; the calling thread works too. A loop is "open" while its chunks are
// handed out; `active_` counts the workers inside it, so the caller returns only when none is.
class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      stop_ = true;
    }
    generation_.fetch_add(1);
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(size_t n, const std::function<void(size_t, size_t)>& fn) {
    std::lock_guard<std::mutex> one_loop_at_a_time(run_mu_);
    fn_ = &fn;
    n_ = n;
    min_chunk_ = std::max<size_t>(1, n / (static_cast<size_t>(size()) * 16));
    next_.store(0, std::memory_order_relaxed);
    open_.store(true);
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      wake_.notify_all();
    }
    drain();
    // A worker that joins from here on finds the loop closed and leaves at once (it counts
    // itself in active_ before it looks at open_, and this thread closes before it counts).
    open_.store(false);
    for (int spins = 0; active_.load() != 0; ++spins) {
      if (spins < kPureSpins) cpu_relax();
      else std::this_thread::yield();  // the worker may have lost its CPU: give it back
    }
    fn_ = nullptr;
  }

 private:
  // Chunks shrink as the loop drains, each half of what is left over the threads (down to a
  // sixteenth of a thread's share): a thread slowed near the end (another process took its CPU,
  // its rows streamed slower) keeps the others waiting for a small chunk only.
  void drain() {
    for (;;) {
      size_t b = next_.load(std::memory_order_relaxed), e;
      do {
        if (b >= n_) return;
        e = std::min(n_, b + std::max(min_chunk_, (n_ - b) / (2 * static_cast<size_t>(size()))));
      } while (!next_.compare_exchange_weak(b, e, std::memory_order_relaxed));
      (*fn_)(b, e);
    }
  }

  // Spins for the next generation, then sleeps; false when the pool is stopping. Past its first
  // microseconds the spin yields the CPU at each check: with more threads than free CPUs (other
  // load, or --threads above the core count) a spinning worker would otherwise hold a CPU that
  // a working thread waits for.
  bool await(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int spins = 1;; ++spins) {
      if (generation_.load() != seen) return !stop_.load();
      if (spins < kPureSpins) {
        cpu_relax();
        continue;
      }
      std::this_thread::yield();
      if (spins % 64 == 0 && std::chrono::steady_clock::now() > until) break;
    }
    std::unique_lock<std::mutex> lock(sleep_mu_);
    sleepers_.fetch_add(1);
    wake_.wait(lock, [&] { return generation_.load() != seen; });
    sleepers_.fetch_sub(1);
    return !stop_.load();
  }

  void work() {
    uint64_t seen = 0;
    while (await(seen)) {
      seen = generation_.load();
      active_.fetch_add(1);
      if (open_.load()) drain();
      active_.fetch_sub(1);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mu_, sleep_mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0}, active_{0};
  std::atomic<bool> open_{false};
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0, min_chunk_ = 1;
  std::atomic<size_t> next_{0};
};

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;

Pool& pool() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<Pool>(std::max(1u, std::thread::hardware_concurrency()));
  return *g_pool;
}

}  // namespace

void set_thread_count(int threads) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_pool.reset();  // the old workers stop before the new ones start spinning
  g_pool = std::make_unique<Pool>(threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency()));
}

int thread_count() { return pool().size(); }

void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  Pool& p = pool();
  if (n == 1 || p.size() == 1) return fn(0, n);
  p.run(n, fn);
}

}  // namespace dsv4::engine
