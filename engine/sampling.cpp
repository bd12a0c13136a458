#include "engine/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dsv4::engine {

int32_t argmax(const float* logits, int vocab) {
  int32_t best = 0;
  for (int i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

Sampler::Sampler(const SamplingParams& params) : p_(params), state_(params.seed) {
  if (!(p_.temperature >= 0)) throw std::invalid_argument("sampling: temperature must be >= 0");
  if (p_.top_k < 0) throw std::invalid_argument("sampling: top_k must be >= 0");
  if (!(p_.top_p > 0 && p_.top_p <= 1)) throw std::invalid_argument("sampling: top_p must be in (0, 1]");
  if (!(p_.min_p >= 0 && p_.min_p < 1)) throw std::invalid_argument("sampling: min_p must be in [0, 1)");
}

// splitmix64: tiny, and the same numbers on every platform and standard library.
double Sampler::uniform() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

std::vector<std::pair<int32_t, float>> Sampler::distribution(const float* logits, int vocab) const {
  std::vector<std::pair<int32_t, float>> c(vocab);
  for (int i = 0; i < vocab; ++i) c[i] = {i, logits[i] / p_.temperature};
  auto by_logit = [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); };
  if (p_.top_k > 0 && p_.top_k < vocab) {
    std::partial_sort(c.begin(), c.begin() + p_.top_k, c.end(), by_logit);
    c.resize(p_.top_k);
  } else {
    std::sort(c.begin(), c.end(), by_logit);
  }
  const float mx = c.front().second;
  double z = 0;
  for (auto& [id, v] : c) z += (v = std::exp(v - mx));
  for (auto& [id, v] : c) v = static_cast<float>(v / z);
  size_t keep = c.size();
  if (p_.top_p < 1) {
    double cum = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      cum += c[i].second;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0) {
    const float floor = p_.min_p * c.front().second;
    size_t n = 0;
    while (n < keep && c[n].second >= floor) ++n;
    keep = n;
  }
  c.resize(std::max<size_t>(1, keep));
  double s = 0;
  for (const auto& e : c) s += e.second;
  for (auto& e : c) e.second = static_cast<float>(e.second / s);
  return c;
}

int32_t Sampler::next(const float* logits, int vocab, bool force_greedy) {
  if (vocab <= 0) throw std::invalid_argument("sampling: empty logits");
  if (force_greedy || p_.temperature == 0) return argmax(logits, vocab);
  const auto dist = distribution(logits, vocab);
  double u = uniform();
  for (const auto& [id, prob] : dist) {
    if (u < prob) return id;
    u -= prob;
  }
  return dist.back().first;  // rounding left a sliver past the last probability
}

}  // namespace dsv4::engine
