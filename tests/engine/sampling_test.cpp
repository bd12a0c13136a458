#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "engine/sampling.hpp"

using namespace dsv4::engine;

namespace {

const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, -1.0f, 2.5f, 0.0f};

std::vector<int32_t> draws(const SamplingParams& p, int n) {
  Sampler s(p);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.next(kLogits.data(), static_cast<int>(kLogits.size())));
  return out;
}

}  // namespace

TEST_CASE("sampling: greedy takes the argmax, also when forced inside tool-call structure") {
  CHECK(draws({}, 5) == std::vector<int32_t>(5, 1));
  SamplingParams hot;
  hot.temperature = 5;
  Sampler s(hot);
  for (int i = 0; i < 20; ++i) CHECK(s.next(kLogits.data(), 6, true) == 1);
  SamplingParams k1 = hot;
  k1.top_k = 1;
  CHECK(draws(k1, 20) == std::vector<int32_t>(20, 1));
}

TEST_CASE("sampling: the same seed gives the same tokens, another seed others") {
  SamplingParams p;
  p.temperature = 1.5f;
  p.seed = 42;
  const auto a = draws(p, 200), b = draws(p, 200);
  CHECK(a == b);
  p.seed = 43;
  CHECK(draws(p, 200) != a);
}

TEST_CASE("sampling: temperature draws follow softmax(logits / T)") {
  SamplingParams p;
  p.temperature = 0.8f;
  p.seed = 7;
  const int n = 40000;
  std::map<int32_t, int> count;
  for (int32_t t : draws(p, n)) ++count[t];
  double z = 0;
  for (float l : kLogits) z += std::exp(l / 0.8);
  for (int i = 0; i < 6; ++i) {
    const double want = std::exp(kLogits[i] / 0.8) / z;
    INFO("token " << i);
    CHECK(std::abs(count[i] / static_cast<double>(n) - want) < 4 * std::sqrt(want * (1 - want) / n) + 1e-3);
  }
}

TEST_CASE("sampling: top-k, top-p and min-p remove the tokens they should") {
  SamplingParams p;
  p.temperature = 1;
  p.top_k = 3;  // keeps 1 (3.0), 4 (2.5), 2 (2.0)
  Sampler s(p);
  auto d = s.distribution(kLogits.data(), 6);
  REQUIRE(d.size() == 3);
  CHECK(d[0].first == 1);
  CHECK(d[1].first == 4);
  CHECK(d[2].first == 2);
  const double z = std::exp(3.0) + std::exp(2.5) + std::exp(2.0);
  CHECK(d[0].second == Approx(std::exp(3.0) / z));

  // Full softmax: p1 = .438, p4 = .266, p2 = .161 ... top_p .6 needs tokens 1 and 4.
  SamplingParams q;
  q.temperature = 1;
  q.top_p = 0.6f;
  auto e = Sampler(q).distribution(kLogits.data(), 6);
  REQUIRE(e.size() == 2);
  CHECK(e[1].first == 4);
  q.top_p = 1;
  q.min_p = 0.5f;  // keeps tokens with p >= 0.5 * p1: exp(l - 3) >= .5 -> l >= 2.307
  auto f = Sampler(q).distribution(kLogits.data(), 6);
  REQUIRE(f.size() == 2);
  for (int32_t t : draws(q, 300)) CHECK((t == 1 || t == 4));
  CHECK_THROWS(Sampler(SamplingParams{-1, 0, 1, 0, 0}));
  CHECK_THROWS(Sampler(SamplingParams{1, 0, 0, 0, 0}));
}
