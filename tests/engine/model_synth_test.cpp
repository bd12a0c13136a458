#include <catch2/catch.hpp>
#include <cmath>

#include "engine/forward.hpp"
#include "engine/model_synth.hpp"
#include "tests/engine/golden_v4.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dsv4::engine;

TEST_CASE("synth: encoders round-trip every code and round ties to even") {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7f) == 0x7f) continue;  // NaN
    const float v = e4m3_to_float(static_cast<uint8_t>(c));
    INFO("code " << c);
    CHECK(float_to_e4m3(v) == c);
  }
  // 1.0 (0x38) and 1.125 (0x39): the midpoint goes to the even code 0x38; above it to 0x39.
  CHECK(float_to_e4m3(1.0625f) == 0x38);
  CHECK(float_to_e4m3(1.07f) == 0x39);
  CHECK(float_to_e4m3(1000.0f) == 0x7e);  // saturates at 448
  for (int c = 0; c < 16; ++c) CHECK(float_to_e2m1(e2m1_to_float(static_cast<uint8_t>(c))) == c);
  CHECK(float_to_e2m1(2.5f) == 4);   // between 2 (code 4) and 3 (code 5): even code
  CHECK(float_to_e2m1(5.0f) == 6);   // between 4 (6) and 6 (7)
  CHECK(float_to_e2m1(-0.25f) == 8); // -0.25 ties between -0 (8) and -0.5 (9)
  CHECK(float_to_bf16(0.5546875f) == 0x3f0e);
  CHECK(bf16_to_float(float_to_bf16(1.00390625f)) == 1.0f);      // tie to even mantissa
  CHECK(bf16_to_float(float_to_bf16(1.01171875f)) == 1.015625f); // tie rounds up to even
}

TEST_CASE("synth: fp4-experts stores every tensor as the real checkpoint does (case4 layout)") {
  dsv4::test::TempDir dir;
  const std::string golden = dsv4::test::golden_v4_dir("case4_quantized_checkpoint");
  auto r = dsv4::test::run_dsv4({"model", "synth", "--config", golden + "/config.json", "--out", (dir / "m").string(),
                                 "--dtype", "fp4-experts", "--seed", "5"});
  REQUIRE(r.exit_code == 0);
  Checkpoint mine = Checkpoint::open(dir / "m");
  Checkpoint ref = Checkpoint::open(golden);
  REQUIRE(mine.tensors().size() == ref.tensors().size());
  for (const auto& [name, t] : ref.tensors()) {
    INFO(name);
    REQUIRE(mine.has(name));
    CHECK(mine.get(name).describe() == t.describe());
  }
  auto model = load_model(dir / "m");
  DecodeState st = empty_state(model->config);
  auto out = forward(*model, st, {1, 2, 3, 4, 5, 6, 7, 8});
  REQUIRE(out.logits.size() == 8u * 512);
  for (float v : out.logits) REQUIRE(std::isfinite(v));

  // The same seed writes the same bytes; the dtype flag is checked.
  auto again = dsv4::test::run_dsv4({"model", "synth", "--config", golden + "/config.json", "--out", (dir / "m2").string(),
                                     "--dtype", "fp4-experts", "--seed", "5"});
  REQUIRE(again.exit_code == 0);
  CHECK(dir.read("m/model.safetensors") == dir.read("m2/model.safetensors"));
  auto bad = dsv4::test::run_dsv4({"model", "synth", "--config", golden + "/config.json", "--out", (dir / "x").string(), "--dtype", "int3"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("int3"));
}

TEST_CASE("logits command: full, prefill+decode and MTP outputs match the golden files") {
  dsv4::test::TempDir dir;
  const std::string golden = dsv4::test::golden_v4_dir("case1_mixed_yarn");
  auto r = dsv4::test::run_dsv4({"logits", "--model", golden, "--ids", golden + "/input_ids.json", "--out",
                                 (dir / "l.f32").string(), "--prefill", "200", "--mtp", (dir / "m.f32").string()});
  REQUIRE(r.exit_code == 0);
  CHECK(dsv4::test::max_abs_diff(dsv4::test::read_f32((dir / "l.f32").string()), dsv4::test::read_f32(golden + "/decode_logits.f32")) < 1e-4f);
  CHECK(dsv4::test::max_abs_diff(dsv4::test::read_f32((dir / "m.f32").string()), dsv4::test::read_f32(golden + "/mtp_logits.f32")) < 1e-4f);
  dir.write("bad.json", "[1, 2, 99999]");
  auto bad = dsv4::test::run_dsv4({"logits", "--model", golden, "--ids", (dir / "bad.json").string(), "--out", (dir / "x").string()});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("99999") && Catch::Contains("vocabulary"));
  CHECK_FALSE(std::filesystem::exists(dir / "x"));
}

TEST_CASE("generate: seeded sampling repeats exactly, chat prompts work, bad flags are refused") {
  dsv4::test::TempDir dir;
  const std::string tokenizer = std::string(DSV4_SHARED_DIR) + "/golden/tokenizer/deepseek_v3";
  // case1's shape with a vocabulary large enough for the real tokenizer.
  std::string cfg = dsv4::test::read_text(dsv4::test::golden_v4_dir("case1_mixed_yarn") + "/config.json");
  const std::string from = "\"vocab_size\": 512", to = "\"vocab_size\": 129280";
  REQUIRE(cfg.find(from) != std::string::npos);
  cfg.replace(cfg.find(from), from.size(), to);
  dir.write("config.json", cfg);
  auto s = dsv4::test::run_dsv4({"model", "synth", "--config", (dir / "config.json").string(), "--out", (dir / "m").string(),
                                 "--dtype", "bf16", "--tokenizer", tokenizer});
  REQUIRE(s.exit_code == 0);
  const std::string m = (dir / "m").string();
  auto sample = [&](const std::string& seed) {
    auto r = dsv4::test::run_dsv4({"generate", "--model", m, "-p", "Hello there", "-n", "6", "--temperature", "1.2",
                                   "--top-p", "0.95", "--seed", seed});
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const std::string a = sample("11");
  CHECK(!a.empty());
  CHECK(sample("11") == a);
  CHECK((sample("12") != a || sample("13") != a));
  auto chat = dsv4::test::run_dsv4({"generate", "--model", m, "-p", "Hi", "--chat", "--thinking", "high", "-n", "3"});
  CHECK(chat.exit_code == 0);
  auto bad = dsv4::test::run_dsv4({"generate", "--model", m, "-p", "Hi", "--top-p", "2"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("top_p"));
  auto both = dsv4::test::run_dsv4({"generate", "--model", m, "-p", "Hi", "--messages", "x.json"});
  CHECK(both.exit_code == 2);
}
