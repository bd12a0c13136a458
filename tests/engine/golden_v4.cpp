#include "tests/engine/golden_v4.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace dsv4::test {
namespace {

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + file);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

std::string read_text(const std::string& file) { return slurp(file); }

std::string golden_v4_dir(const std::string& case_name) { return std::string(DSV4_SHARED_DIR) + "/golden/v4/" + case_name; }

std::vector<float> read_f32(const std::string& file) {
  const std::string b = slurp(file);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

std::vector<int32_t> read_i32(const std::string& file) {
  const std::string b = slurp(file);
  std::vector<int32_t> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

std::vector<int32_t> read_golden_ids(const std::string& case_name) {
  return nlohmann::json::parse(slurp(golden_v4_dir(case_name) + "/input_ids.json")).get<std::vector<int32_t>>();
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = std::isnan(d) ? INFINITY : d;
  }
  return m;
}

}  // namespace dsv4::test
