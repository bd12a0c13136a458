#pragma once
// Picks the next token from logits: greedy, or temperature with top-k / top-p / min-p filters,
// reproducible from a seed.
#include <cstdint>
#include <vector>

namespace dsv4::engine {

struct SamplingParams {
  float temperature = 0;  // 0 = greedy
  int top_k = 0;          // 0 = no limit
  float top_p = 1;        // nucleus: smallest set whose probability reaches top_p
  float min_p = 0;        // drop tokens below min_p * the most likely token's probability
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // `force_greedy` is used inside DSML tool-call structure, where only the argmax keeps it parseable.
  int32_t next(const float* logits, int vocab, bool force_greedy = false);
  // The filtered, renormalised distribution `next` draws from (token, probability), most likely first.
  std::vector<std::pair<int32_t, float>> distribution(const float* logits, int vocab) const;

 private:
  double uniform();  // [0, 1), from the seeded generator

  SamplingParams p_;
  uint64_t state_;
};

int32_t argmax(const float* logits, int vocab);

}  // namespace dsv4::engine
