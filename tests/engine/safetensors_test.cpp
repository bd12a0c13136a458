#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/quant.hpp"
#include "engine/safetensors.hpp"
#include "tests/engine/safetensors_writer.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dsv4::engine;
using dsv4::test::RawTensor;

namespace {

const std::string kCase4 = std::string(DSV4_SHARED_DIR) + "/golden/v4/case4_quantized_checkpoint";

std::string error_of(const std::filesystem::path& p) {
  try {
    Checkpoint::open(p);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

float at(const Linear& l, int row, int col) {
  std::vector<float> buf(l.in);
  l.dequantize_row(row, buf.data());
  return buf[col];
}

}  // namespace

TEST_CASE("quant: scalar formats decode as the format definitions say") {
  // e4m3: sign, 4 exponent bits (bias 7), 3 mantissa bits; subnormals below exponent 1.
  CHECK(e4m3_to_float(0x56) == 14.0f);
  CHECK(e4m3_to_float(0xec) == -96.0f);
  CHECK(e4m3_to_float(0x7e) == 448.0f);
  CHECK(e4m3_to_float(0xfe) == -448.0f);
  CHECK(e4m3_to_float(0x86) == -6.0f / 512);
  CHECK(e4m3_to_float(0x01) == 1.0f / 512);
  CHECK(e4m3_to_float(0x08) == 1.0f / 64);
  CHECK(e4m3_to_float(0x00) == 0.0f);
  CHECK(std::signbit(e4m3_to_float(0x80)));
  CHECK(std::isnan(e4m3_to_float(0x7f)));
  CHECK(std::isnan(e4m3_to_float(0xff)));
  CHECK(e8m0_to_float(127) == 1.0f);
  CHECK(e8m0_to_float(116) == std::ldexp(1.0f, -11));
  CHECK(e8m0_to_float(0) == std::ldexp(1.0f, -127));
  CHECK(std::isnan(e8m0_to_float(255)));
  const float fp4[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int c = 0; c < 16; ++c) CHECK(e2m1_to_float(c) == fp4[c]);
  CHECK(std::signbit(e2m1_to_float(8)));
  CHECK(bf16_to_float(0x3f0e) == 0.5546875f);
  CHECK(bf16_to_float(0x3dcc) == 0.099609375f);
}

TEST_CASE("safetensors: case4's worked byte-level examples dequantize exactly") {
  Checkpoint ck = Checkpoint::open(kCase4);
  CHECK(ck.tensors().size() == 648);
  const TensorView& raw = ck.get("layers.0.attn.wq_a.weight");
  REQUIRE(raw.dtype == DType::F8_E4M3);
  CHECK(raw.data[0] == 0x56);
  CHECK(raw.data[130 * 192 + 129] == 0xf1);
  Linear wq_a = load_linear(ck, "layers.0.attn.wq_a", 160, 192);
  CHECK(wq_a.format == WeightFormat::FP8Block);
  CHECK(at(wq_a, 0, 0) == 0.0068359375f);
  CHECK(at(wq_a, 0, 1) == 0.00244140625f);
  CHECK(at(wq_a, 0, 2) == -0.046875f);
  CHECK(at(wq_a, 0, 3) == -0.01171875f);
  CHECK(at(wq_a, 130, 128) == 0.1015625f);   // partial block [1, 1], scale 2^-10
  CHECK(at(wq_a, 130, 129) == -0.140625f);
  CHECK(at(wq_a, 130, 130) == 0.03515625f);
  CHECK(at(wq_a, 43, 109) == -5.7220458984375e-06f);  // subnormal code

  Linear w1 = load_linear(ck, "layers.0.ffn.experts.0.w1", 160, 192);
  CHECK(w1.format == WeightFormat::FP4Group);
  CHECK(at(w1, 0, 0) == 0.015625f);
  CHECK(at(w1, 0, 1) == -0.0078125f);
  CHECK(at(w1, 0, 2) == 0.03125f);
  CHECK(at(w1, 0, 3) == -0.0234375f);
  CHECK(at(w1, 0, 32) == -0.0625f);   // next scale group
  CHECK(at(w1, 0, 33) == -0.125f);

  Linear embed = load_linear(ck, "embed", 512, 192);
  CHECK(embed.format == WeightFormat::BF16);
  CHECK(at(embed, 0, 0) == 0.5546875f);
  CHECK(at(embed, 0, 1) == 0.099609375f);
  CHECK(load_floats(ck, "layers.0.attn.attn_sink", 2)[0] == 0.0490997769f);
  auto tid = load_ints(ck, "layers.0.ffn.gate.tid2eid", 512, 3);
  CHECK(tid[0] == 5);
  CHECK(tid[1] == 0);
}

TEST_CASE("safetensors: every case4 tensor matches weights_checksums.json") {
  Checkpoint ck = Checkpoint::open(kCase4);
  std::ifstream in(kCase4 + "/weights_checksums.json");
  auto sums = nlohmann::json::parse(in)["tensors"];
  REQUIRE(sums.size() == 380);
  int checked = 0;
  for (const auto& [name, info] : sums.items()) {
    INFO(name);
    std::vector<int64_t> shape = info["dequantized_shape"];
    std::vector<double> values;
    if (info["stored_dtype"] == "I64") {
      for (int32_t v : load_ints(ck, name, shape[0], shape[1])) values.push_back(v);
    } else if (shape.size() == 2 && name.size() > 7 && name.substr(name.size() - 7) == ".weight") {
      Linear l = load_linear(ck, name.substr(0, name.size() - 7), static_cast<int>(shape[0]), static_cast<int>(shape[1]));
      CHECK(std::string(dtype_name(ck.get(name).dtype)) == info["stored_dtype"].get<std::string>());
      std::vector<float> row(l.in);
      for (int r = 0; r < l.out; ++r) {
        l.dequantize_row(r, row.data());
        values.insert(values.end(), row.begin(), row.end());
      }
    } else {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      for (float v : load_floats(ck, name, n)) values.push_back(v);
    }
    long double sum = 0, sum_sq = 0;
    for (double v : values) {
      sum += v;
      sum_sq += static_cast<long double>(v) * v;
    }
    const double want_sum = info["sum"], want_sq = info["sum_sq"];
    CHECK(std::abs(static_cast<double>(sum) - want_sum) <= 1e-12 * std::max(1.0, std::abs(want_sq)));
    CHECK(std::abs(static_cast<double>(sum_sq) - want_sq) <= 1e-12 * std::max(1.0, want_sq));
    for (size_t i = 0; i < info["first4"].size(); ++i) CHECK(values[i] == info["first4"][i].get<double>());
    ++checked;
  }
  CHECK(checked == 380);
}

TEST_CASE("safetensors: sharded checkpoints load through the index and are checked against it") {
  dsv4::test::TempDir dir;
  dsv4::test::write_safetensors(dir / "a.safetensors", {{"x", "F32", {2}, dsv4::test::f32_bytes({1, 2})}});
  dsv4::test::write_safetensors(dir / "b.safetensors", {{"y", "BF16", {1}, std::string("\x80\x3f", 2)}});
  dir.write("model.safetensors.index.json", R"({"metadata": {}, "weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})");
  Checkpoint ck = Checkpoint::open(dir.path());
  CHECK(load_floats(ck, "x", 2) == std::vector<float>{1, 2});
  CHECK(load_floats(ck, "y", 1) == std::vector<float>{1});
  CHECK_THROWS_WITH(ck.get("z"), Catch::Contains("'z'"));

  dir.write("model.safetensors.index.json", R"({"weight_map": {"x": "a.safetensors", "q": "a.safetensors"}})");
  CHECK_THAT(error_of(dir.path()), Catch::Contains("'q'") && Catch::Contains("does not list"));
  dir.write("model.safetensors.index.json", R"({"weight_map": {"x": "../a.safetensors"}})");
  CHECK_THAT(error_of(dir.path()), Catch::Contains("not a file in the model folder"));
  dir.write("model.safetensors.index.json", R"({"weight_map": {"x": "missing.safetensors"}})");
  CHECK_THAT(error_of(dir.path()), Catch::Contains("missing.safetensors"));
}

TEST_CASE("safetensors: truncated and inconsistent files are refused with the reason") {
  dsv4::test::TempDir dir;
  const std::string good = dsv4::test::safetensors_bytes({{"w", "F32", {2, 2}, dsv4::test::f32_bytes({1, 2, 3, 4})}});
  auto check = [&](const std::string& bytes, const std::string& expect) {
    dir.write("model.safetensors", bytes);
    INFO(expect);
    CHECK_THAT(error_of(dir.path()), Catch::Contains(expect));
  };
  dir.write("model.safetensors", good);
  CHECK(error_of(dir.path()).empty());
  check(good.substr(0, good.size() - 3), "outside");
  check(good.substr(0, 5), "truncated");
  check(good.substr(0, 20), "runs past the end");
  check(dsv4::test::safetensors_bytes({{"w", "F32", {2, 3}, dsv4::test::f32_bytes({1, 2, 3, 4})}}), "need");
  check(dsv4::test::safetensors_bytes({{"w", "F16", {2}, dsv4::test::f32_bytes({1})}}), "'F16'");
  std::string bad_json = good;
  bad_json[9] = '[';
  check(bad_json, "not valid JSON");
  CHECK_THAT(error_of(dir / "nothing-here"), Catch::Contains("neither"));

  // Linear weights: shape and scale mismatches name the tensor.
  dsv4::test::write_safetensors(dir / "model.safetensors",
                                {{"q.weight", "F8_E4M3", {130, 4}, std::string(520, '\x38')},
                                 {"q.scale", "F8_E8M0", {1, 1}, std::string(1, '\x7f')},
                                 {"n.weight", "F8_E4M3", {2, 2}, std::string(4, '\x38')}});
  Checkpoint ck = Checkpoint::open(dir.path());
  CHECK_THROWS_WITH(load_linear(ck, "q", 130, 4), Catch::Contains("q.scale") && Catch::Contains("[2, 1]"));
  CHECK_THROWS_WITH(load_linear(ck, "n", 2, 2), Catch::Contains("'n.scale' is missing"));
  CHECK_THROWS_WITH(load_linear(ck, "q", 4, 130), Catch::Contains("q.weight"));
}
