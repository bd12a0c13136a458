#pragma once
// Writes small safetensors files for tests, so that hostile headers and shards can be built
// byte by byte without a Python toolchain.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dsv4::test {

struct RawTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// The file's bytes: 8-byte header length, JSON header, packed data.
std::string safetensors_bytes(const std::vector<RawTensor>& tensors);
void write_safetensors(const std::filesystem::path& file, const std::vector<RawTensor>& tensors);
std::string f32_bytes(const std::vector<float>& values);

}  // namespace dsv4::test
