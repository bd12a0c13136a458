#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/thread_pool.hpp"

using namespace dsv4::engine;

namespace {

// Every index of [0, n) visited exactly once, by contiguous chunks.
void check_cover(size_t n) {
  std::vector<std::atomic<int>> seen(n);
  parallel_for(n, [&](size_t b, size_t e) {
    REQUIRE(b < e);
    REQUIRE(e <= n);
    for (size_t i = b; i < e; ++i) seen[i].fetch_add(1);
  });
  for (size_t i = 0; i < n; ++i) {
    INFO("n " << n << " index " << i);
    REQUIRE(seen[i].load() == 1);
  }
}

}  // namespace

TEST_CASE("thread pool: every index once, for back-to-back loops of every size and thread count") {
  for (int threads : {1, 2, 3, 8}) {
    set_thread_count(threads);
    REQUIRE(thread_count() == threads);
    for (size_t n : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, size_t{1000}, size_t{100003}}) check_cover(n);
    // Thousands of short loops in a row: the spinning workers join some and miss others.
    std::atomic<long> total{0};
    for (int i = 0; i < 5000; ++i) parallel_for(33, [&](size_t b, size_t e) { total += static_cast<long>(e - b); });
    REQUIRE(total.load() == 5000 * 33);
  }
  set_thread_count(0);
}

TEST_CASE("thread pool: workers asleep after the spin wake up for the next loop") {
  set_thread_count(4);
  check_cover(500);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the spin: the workers sleep
  std::atomic<int> distinct{0};
  std::vector<std::atomic<int>> by_thread(64);
  const auto start = std::chrono::steady_clock::now();
  // Chunks that take a while, so that woken workers get some before the caller runs out.
  parallel_for(64, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    static thread_local int mark = distinct.fetch_add(1);
    by_thread[static_cast<size_t>(mark) % 64].fetch_add(1);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(distinct.load() >= 2);  // not the caller alone
  CHECK(seconds < 64 * 0.002);  // faster than one thread sleeping through all of it
  set_thread_count(0);
}

TEST_CASE("thread pool: loops started from several threads at once each complete") {
  set_thread_count(2);
  std::vector<std::thread> callers;
  std::atomic<long> total{0};
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) parallel_for(50, [&](size_t b, size_t e) { total += static_cast<long>(e - b); });
    });
  for (auto& t : callers) t.join();
  REQUIRE(total.load() == 4L * 300 * 50);
  set_thread_count(0);
}
