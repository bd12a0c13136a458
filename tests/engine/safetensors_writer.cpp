#include "tests/engine/safetensors_writer.hpp"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace dsv4::test {

std::string safetensors_bytes(const std::vector<RawTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const RawTensor& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  const uint64_t n = h.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}

void write_safetensors(const std::filesystem::path& file, const std::vector<RawTensor>& tensors) {
  std::ofstream(file, std::ios::binary) << safetensors_bytes(tensors);
}

std::string f32_bytes(const std::vector<float>& values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

}  // namespace dsv4::test
