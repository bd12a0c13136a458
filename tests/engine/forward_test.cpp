#include <catch2/catch.hpp>
#include <set>

#include "engine/forward.hpp"
#include "engine/forward_kernels.hpp"
#include "tests/engine/golden_v4.hpp"

using namespace dsv4::engine;
using namespace dsv4::test;

namespace {

const char* kCases[] = {"case1_mixed_yarn", "case3_flash_pattern", "case4_quantized_checkpoint"};

std::vector<int32_t> slice(const std::vector<int32_t>& v, size_t b, size_t e) {
  return std::vector<int32_t>(v.begin() + b, v.begin() + e);
}

}  // namespace

TEST_CASE("forward: full pass logits, indexer picks and MTP logits match every golden case") {
  for (const char* name : kCases) {
    INFO(name);
    const std::string dir = golden_v4_dir(name);
    auto model = load_model(dir);
    const auto ids = read_golden_ids(name);
    DecodeState st = empty_state(model->config);
    ForwardRequest want;
    want.streams = true;
    want.indexer_picks = true;
    ForwardOutput out = forward(*model, st, ids, want);
    CHECK(max_abs_diff(out.logits, read_f32(dir + "/logits.f32")) < 1e-4f);

    const int k = model->config.index_topk;
    REQUIRE(out.indexer_picks.size() == 2);
    for (const auto& [layer, picks] : out.indexer_picks) {
      INFO("layer " << layer);
      const auto golden = read_i32(dir + "/indexer_topk_layer" + std::to_string(layer) + ".i32");
      REQUIRE(golden.size() == ids.size() * k);
      size_t differing = 0;
      for (size_t t = 0; t < ids.size(); ++t) {
        std::set<int> want_set;
        for (int i = 0; i < k; ++i)
          if (golden[t * k + i] >= 0) want_set.insert(golden[t * k + i]);
        if (std::set<int>(picks[t].begin(), picks[t].end()) != want_set) ++differing;
      }
      CHECK(differing == 0);
    }

    std::vector<float> mtp = forward_mtp(*model, st, out.streams, slice(ids, 1, ids.size()));
    CHECK(max_abs_diff(mtp, read_f32(dir + "/mtp_logits.f32")) < 1e-4f);
  }
}

TEST_CASE("forward: prefill then one token at a time matches decode_logits") {
  const std::pair<const char*, size_t> cases[] = {
      {"case1_mixed_yarn", 200}, {"case3_flash_pattern", 257}, {"case4_quantized_checkpoint", 150}};
  for (const auto& [name, prefill] : cases) {
    INFO(name);
    const std::string dir = golden_v4_dir(name);
    auto model = load_model(dir);
    const auto ids = read_golden_ids(name);
    DecodeState st = empty_state(model->config);
    std::vector<float> logits = forward(*model, st, slice(ids, 0, prefill)).logits;
    for (size_t i = prefill; i < ids.size(); ++i) {
      auto r = forward(*model, st, {ids[i]}).logits;
      logits.insert(logits.end(), r.begin(), r.end());
    }
    CHECK(st.pos == static_cast<int64_t>(ids.size()));
    CHECK(max_abs_diff(logits, read_f32(dir + "/decode_logits.f32")) < 1e-4f);
  }
}

TEST_CASE("forward: uneven chunks give the same state and logits as one pass") {
  const std::string dir = golden_v4_dir("case1_mixed_yarn");
  auto model = load_model(dir);
  const auto ids = read_golden_ids("case1_mixed_yarn");
  DecodeState whole = empty_state(model->config);
  const auto full = forward(*model, whole, ids).logits;
  DecodeState st = empty_state(model->config);
  std::vector<float> chunked;
  const size_t cuts[] = {0, 3, 7, 130, 131, 259, 262, ids.size()};
  for (size_t c = 0; c + 1 < std::size(cuts); ++c) {
    auto r = forward(*model, st, slice(ids, cuts[c], cuts[c + 1])).logits;
    chunked.insert(chunked.end(), r.begin(), r.end());
  }
  CHECK(max_abs_diff(chunked, full) < 1e-5f);
  CHECK(st.pos == whole.pos);
  // The compressors emitted the same number of entries and keep the same pending rows.
  for (size_t l = 0; l < st.layers.size(); ++l) {
    CHECK(st.layers[l].compressor.entries.size() == whole.layers[l].compressor.entries.size());
    CHECK(st.layers[l].compressor.first_pos == whole.layers[l].compressor.first_pos);
    CHECK(st.layers[l].index_compressor.k.size() == whole.layers[l].index_compressor.k.size());
  }
}

TEST_CASE("decode state: serialise, restore and continue equals the uninterrupted run") {
  const std::string dir = golden_v4_dir("case3_flash_pattern");
  auto model = load_model(dir);
  const auto ids = read_golden_ids("case3_flash_pattern");
  DecodeState st = empty_state(model->config);
  forward(*model, st, slice(ids, 0, 257));
  const std::string bytes = serialize_state(st);
  DecodeState restored = deserialize_state(bytes, model->config);
  CHECK(restored == st);
  CHECK(serialize_state(restored) == bytes);
  DecodeState copy = st;  // a plain copy forks the conversation
  std::vector<float> a, b, c;
  for (size_t i = 257; i < 300; ++i) {
    auto x = forward(*model, st, {ids[i]}).logits;
    auto y = forward(*model, restored, {ids[i]}).logits;
    auto z = forward(*model, copy, {ids[i]}).logits;
    a.insert(a.end(), x.begin(), x.end());
    b.insert(b.end(), y.begin(), y.end());
    c.insert(c.end(), z.begin(), z.end());
  }
  CHECK(a == b);
  CHECK(a == c);
  CHECK(st == restored);

  // Damaged or foreign states are refused with the reason.
  CHECK_THROWS_WITH(deserialize_state(bytes.substr(0, bytes.size() - 5), model->config), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(deserialize_state("garbage", model->config), Catch::Contains("magic"));
  CHECK_THROWS_WITH(deserialize_state(bytes + "x", model->config), Catch::Contains("trailing"));
  auto other = load_model(golden_v4_dir("case1_mixed_yarn"));
  CHECK_THROWS_WITH(deserialize_state(bytes, other->config), Catch::Contains("different model shape"));
}

TEST_CASE("forward: the quantized case decodes within tolerance at every kernel level") {
  const std::string dir = golden_v4_dir("case4_quantized_checkpoint");
  auto model = load_model(dir);
  const auto ids = read_golden_ids("case4_quantized_checkpoint");
  const auto golden = read_f32(dir + "/decode_logits.f32");
  for (KernelLevel level : kKernelLevels) {
    if (level > best_kernel_level()) continue;
    set_kernel_level(level);
    INFO("kernels " << kernel_level_name(level));
    DecodeState st = empty_state(model->config);
    std::vector<float> logits = forward(*model, st, slice(ids, 0, 150)).logits;
    for (size_t i = 150; i < ids.size(); ++i) {
      auto r = forward(*model, st, {ids[i]}).logits;
      logits.insert(logits.end(), r.begin(), r.end());
    }
    CHECK(max_abs_diff(logits, golden) < 1e-4f);
  }
  set_kernel_level(best_kernel_level());
}

TEST_CASE("forward: a prompt longer than one internal chunk equals the same prompt fed in two calls") {
  // forward splits long inputs into chunks of 1024 tokens; 2500 tokens make three of them, and
  // the two-call split at 777 puts every boundary elsewhere. Each token's arithmetic does not
  // depend on its chunk, so logits, streams, indexer picks and the final state are identical.
  const std::string dir = golden_v4_dir("case4_quantized_checkpoint");
  auto model = load_model(dir);
  std::vector<int32_t> ids(2500);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>((i * 7919 + 13) % model->config.vocab_size);
  ForwardRequest want;
  want.streams = true;
  want.indexer_picks = true;
  DecodeState whole = empty_state(model->config), split = empty_state(model->config);
  ForwardOutput a = forward(*model, whole, ids, want);
  ForwardOutput b1 = forward(*model, split, slice(ids, 0, 777), want);
  ForwardOutput b2 = forward(*model, split, slice(ids, 777, ids.size()), want);
  REQUIRE(a.logits.size() == ids.size() * static_cast<size_t>(model->config.vocab_size));
  b1.logits.insert(b1.logits.end(), b2.logits.begin(), b2.logits.end());
  b1.streams.insert(b1.streams.end(), b2.streams.begin(), b2.streams.end());
  CHECK(a.logits == b1.logits);
  CHECK(a.streams == b1.streams);
  for (auto& [layer, picks] : b2.indexer_picks) b1.indexer_picks[layer].insert(b1.indexer_picks[layer].end(), picks.begin(), picks.end());
  CHECK(a.indexer_picks == b1.indexer_picks);
  CHECK(whole == split);
  // Only the last row when asked for it, from the last chunk (one row takes the decode kernels,
  // so equal within rounding, not bit for bit).
  DecodeState again = empty_state(model->config);
  ForwardRequest last;
  last.last_logits_only = true;
  const ForwardOutput l = forward(*model, again, ids, last);
  REQUIRE(l.logits.size() == static_cast<size_t>(model->config.vocab_size));
  CHECK(max_abs_diff(l.logits, std::vector<float>(a.logits.end() - model->config.vocab_size, a.logits.end())) < 1e-5f);
}
