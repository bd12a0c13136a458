#include <catch2/catch.hpp>

#include "engine/generate.hpp"
#include "tests/engine/golden_v4.hpp"

using namespace dsv4::engine;

TEST_CASE("generate: greedy follows the argmax of the full-pass logits, forced greed overrides sampling") {
  auto model = load_model(dsv4::test::golden_v4_dir("case1_mixed_yarn"));
  const auto ids = dsv4::test::read_golden_ids("case1_mixed_yarn");
  const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 40);
  GenerateOptions greedy;
  greedy.max_tokens = 12;
  DecodeState st = empty_state(model->config);
  const auto out = generate(*model, st, prompt, greedy);
  REQUIRE(out.size() == 12);
  // Independent check: one full pass over prompt + generated tokens; each generated token is the
  // argmax of the row before it.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), out.begin(), out.end());
  DecodeState fresh = empty_state(model->config);
  const auto logits = forward(*model, fresh, all).logits;
  const int V = model->config.vocab_size;
  for (size_t i = 0; i < out.size(); ++i)
    CHECK(out[i] == argmax(logits.data() + (prompt.size() - 1 + i) * V, V));

  GenerateOptions hot = greedy;
  hot.sampling.temperature = 3;
  hot.sampling.seed = 9;
  DecodeState a = empty_state(model->config);
  GenerateHooks always_greedy;
  always_greedy.force_greedy = [] { return true; };
  CHECK(generate(*model, a, prompt, hot, always_greedy) == out);
  DecodeState b = empty_state(model->config);
  CHECK(generate(*model, b, prompt, hot) != out);  // at T = 3 a 12-token greedy match is vanishingly unlikely

  // Stop tokens end generation after emitting them; the hook can stop it too.
  GenerateOptions stop = greedy;
  stop.stop_ids = {out[3]};
  DecodeState c = empty_state(model->config);
  const auto stopped = generate(*model, c, prompt, stop);
  CHECK(stopped.size() <= 4);
  CHECK(stopped.back() == out[3]);
  int seen = 0;
  GenerateHooks two;
  two.on_token = [&](int32_t) { return ++seen < 2; };
  DecodeState d = empty_state(model->config);
  CHECK(generate(*model, d, prompt, greedy, two).size() == 2);
}

TEST_CASE("forward: the last row of logits alone equals the last row of the full logits") {
  auto model = load_model(dsv4::test::golden_v4_dir("case3_flash_pattern"));
  const auto ids = dsv4::test::read_golden_ids("case3_flash_pattern");
  const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 130);
  DecodeState full_state = empty_state(model->config), last_state = empty_state(model->config);
  const auto full = forward(*model, full_state, prompt).logits;
  const auto last = forward(*model, last_state, prompt, {.last_logits_only = true}).logits;
  const size_t V = static_cast<size_t>(model->config.vocab_size);
  REQUIRE(last.size() == V);
  REQUIRE(full.size() == prompt.size() * V);
  float worst = 0;
  for (size_t v = 0; v < V; ++v) worst = std::max(worst, std::abs(last[v] - full[full.size() - V + v]));
  CHECK(worst < 1e-5f);
  CHECK(last_state.pos == full_state.pos);
}
