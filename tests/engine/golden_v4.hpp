#pragma once
// Reads the DeepSeek-V4 golden cases (../shared/golden/v4) for the engine tests.
#include <cstdint>
#include <string>
#include <vector>

namespace dsv4::test {

std::string golden_v4_dir(const std::string& case_name);
std::vector<float> read_f32(const std::string& file);
std::vector<int32_t> read_i32(const std::string& file);
std::vector<int32_t> read_golden_ids(const std::string& case_name);
std::string read_text(const std::string& file);
float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace dsv4::test
