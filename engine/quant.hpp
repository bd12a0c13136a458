#pragma once
// Weight storage formats of the DeepSeek-V4 checkpoint and their exact dequantization. Linear
// weights stay in their stored format (mapped from the file); rows are expanded to float32 only
// while a dot product needs them.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/safetensors.hpp"

namespace dsv4::engine {

float bf16_to_float(uint16_t bits);
float e4m3_to_float(uint8_t byte);   // FP8 e4m3 "fn": bias 7, subnormals, no infinities (0x7f/0xff are NaN)
// UE8M0 scale: 2^(byte - 127), built directly as float bits (the exponent field is the byte);
// byte 0 is the subnormal 2^-127. Inline because it sits in the kernels' inner loops, where
// ldexp was measurably slow.
inline float e8m0_to_float(uint8_t byte) {
  if (byte == 255) return std::numeric_limits<float>::quiet_NaN();
  const uint32_t bits = byte ? static_cast<uint32_t>(byte) << 23 : 0x00400000u;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
float e2m1_to_float(uint8_t code);   // FP4 e2m1 code 0..15, bit 3 = sign

enum class WeightFormat {
  F32,
  BF16,
  FP8Block,  // F8_E4M3 [out, in] + F8_E8M0 scale [ceil(out/128), ceil(in/128)]
  FP4Group,  // I8 [out, in/2], low nibble = even column, + F8_E8M0 scale [out, in/32]
};

const char* weight_format_name(WeightFormat f);

// A [out, in] matrix as stored in the checkpoint (y = W x).
struct Linear {
  WeightFormat format = WeightFormat::F32;
  int out = 0;
  int in = 0;
  const uint8_t* data = nullptr;
  const uint8_t* scale = nullptr;
  int scale_cols = 0;

  // Writes row `row` as float32 into dst[0..in).
  void dequantize_row(int row, float* dst) const;
  size_t stored_bytes() const;  // weight plus scale bytes, what one full pass over it reads
};

// Finds `<prefix>.weight` (and `<prefix>.scale` when quantized) and checks it is [out, in].
Linear load_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in);

// A small float tensor (norm weights, biases, hyper-connection parameters) converted to float32;
// the checkpoint stores these as F32 or BF16. Checks the element count.
std::vector<float> load_floats(const Checkpoint& ckpt, const std::string& name, int64_t numel);

// An integer table (tid2eid), stored as I32 or I64; checks the shape.
std::vector<int32_t> load_ints(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols);

}  // namespace dsv4::engine
