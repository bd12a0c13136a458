#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/model_config.hpp"

using dsv4::engine::load_model_config;
using dsv4::engine::parse_model_config;

namespace {

const std::string kGolden = std::string(DSV4_SHARED_DIR) + "/golden/v4/";

nlohmann::json golden_config(const std::string& c) {
  std::ifstream in(kGolden + c + "/config.json");
  return nlohmann::json::parse(in);
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_model_config(j.dump(), "config.json");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config: the golden configs load with their shapes") {
  auto c1 = load_model_config(kGolden + "case1_mixed_yarn/config.json");
  CHECK(c1.hidden_size == 64);
  CHECK(c1.num_layers == 5);
  CHECK(c1.head_dim == 32);
  CHECK(c1.rope_dim == 16);
  CHECK(c1.compress_ratios == std::vector<int>{0, 4, 128, 4, 0, 0});
  CHECK(c1.num_mtp_layers == 1);
  CHECK(c1.num_hash_layers == 2);
  CHECK(c1.yarn.enabled);
  CHECK(c1.yarn.factor == 16);
  CHECK(c1.yarn.original_max_position == 65536);
  CHECK_FALSE(c1.fp8_weights);
  auto c4 = load_model_config(kGolden + "case4_quantized_checkpoint/config.json");
  CHECK(c4.fp8_weights);
  CHECK(c4.fp4_experts);
  CHECK(c4.o_lora_rank == 80);
  CHECK(c4.swiglu_limit == 1.0);
  CHECK(c4.eos_token_ids == std::vector<int64_t>{1});
}

TEST_CASE("config: unknown keys and unsupported values are named in the error") {
  auto j = golden_config("case3_flash_pattern");
  auto bad = j;
  bad["frobnicate_layers"] = 3;
  CHECK_THAT(error_of(bad), Catch::Contains("'frobnicate_layers'"));
  bad = j;
  bad["scoring_func"] = "softmax";
  CHECK_THAT(error_of(bad), Catch::Contains("'scoring_func'") && Catch::Contains("sqrtsoftplus"));
  bad = j;
  bad["compress_ratios"] = {0, 0, 4, 128, 4};
  CHECK_THAT(error_of(bad), Catch::Contains("'compress_ratios'") && Catch::Contains("expected"));
  bad = j;
  bad["compress_ratios"][2] = 8;
  CHECK_THAT(error_of(bad), Catch::Contains("'compress_ratios'") && Catch::Contains("8"));
  bad = j;
  bad.erase("hidden_size");
  CHECK_THAT(error_of(bad), Catch::Contains("'hidden_size'") && Catch::Contains("missing"));
  bad = j;
  bad["rope_scaling"]["type"] = "linear";
  CHECK_THAT(error_of(bad), Catch::Contains("yarn"));
  bad = j;
  bad["num_key_value_heads"] = 8;
  CHECK_THAT(error_of(bad), Catch::Contains("'num_key_value_heads'"));
  bad = j;
  bad["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e5m2"}};
  CHECK_THAT(error_of(bad), Catch::Contains("'fmt'"));
  bad = j;
  bad["o_groups"] = 3;
  CHECK_THAT(error_of(bad), Catch::Contains("'o_groups'"));
  bad = j;
  bad["n_group"] = 8;
  CHECK_THAT(error_of(bad), Catch::Contains("'n_group'"));
  auto legacy = j;  // V3-era keys with the values that describe V4
  legacy["first_k_dense_replace"] = 0;
  legacy["n_group"] = 1;
  legacy["topk_group"] = 1;
  legacy["kv_lora_rank"] = 512;
  CHECK(error_of(legacy).empty());
  CHECK_THAT(error_of(nlohmann::json::array()), Catch::Contains("object"));
  try {
    parse_model_config("{\"model_type\": ", "cfg");
    FAIL("no error");
  } catch (const std::exception& e) {
    CHECK_THAT(e.what(), Catch::Contains("not valid JSON"));
  }
}

TEST_CASE("config: a missing file is a clear error") {
  CHECK_THROWS_WITH(load_model_config("/nonexistent/config.json"), Catch::Contains("cannot open"));
}
