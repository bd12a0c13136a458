#include "engine/quant.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace dsv4::engine {
namespace {

std::array<float, 256> make_e4m3_table() {
  std::array<float, 256> t{};
  for (int b = 0; b < 256; ++b) {
    const int e = (b >> 3) & 15, m = b & 7;
    float v;
    if (e == 15 && m == 7) v = std::numeric_limits<float>::quiet_NaN();
    else if (e == 0) v = std::ldexp(static_cast<float>(m), -9);
    else v = std::ldexp(1.0f + m / 8.0f, e - 7);
    t[b] = (b & 0x80) ? -v : v;
  }
  return t;
}

const std::array<float, 256> kE4M3 = make_e4m3_table();
constexpr float kE2M1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

std::string shape_string(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

void expect_shape(const TensorView& t, const std::vector<int64_t>& shape, const std::string& why) {
  if (t.shape != shape)
    throw std::runtime_error("checkpoint: " + t.describe() + " should have shape " + shape_string(shape) + why);
}

}  // namespace

float bf16_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float e4m3_to_float(uint8_t byte) { return kE4M3[byte]; }

float e2m1_to_float(uint8_t code) { return kE2M1[code & 15]; }

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::FP8Block: return "fp8";
    case WeightFormat::FP4Group: return "fp4";
  }
  return "?";
}

void Linear::dequantize_row(int row, float* dst) const {
  switch (format) {
    case WeightFormat::F32:
      std::memcpy(dst, data + static_cast<size_t>(row) * in * 4, static_cast<size_t>(in) * 4);
      return;
    case WeightFormat::BF16: {
      const uint8_t* p = data + static_cast<size_t>(row) * in * 2;
      for (int k = 0; k < in; ++k) {
        uint16_t b;
        std::memcpy(&b, p + 2 * k, 2);
        dst[k] = bf16_to_float(b);
      }
      return;
    }
    case WeightFormat::FP8Block: {
      const uint8_t* p = data + static_cast<size_t>(row) * in;
      const uint8_t* s = scale + static_cast<size_t>(row / 128) * scale_cols;
      for (int k0 = 0; k0 < in; k0 += 128) {
        const float sc = e8m0_to_float(s[k0 / 128]);
        const int k1 = std::min(in, k0 + 128);
        for (int k = k0; k < k1; ++k) dst[k] = kE4M3[p[k]] * sc;
      }
      return;
    }
    case WeightFormat::FP4Group: {
      const uint8_t* p = data + static_cast<size_t>(row) * (in / 2);
      const uint8_t* s = scale + static_cast<size_t>(row) * scale_cols;
      for (int g = 0; g < in / 32; ++g) {
        const float sc = e8m0_to_float(s[g]);
        for (int j = 0; j < 16; ++j) {
          const uint8_t b = p[g * 16 + j];
          dst[g * 32 + 2 * j] = kE2M1[b & 15] * sc;
          dst[g * 32 + 2 * j + 1] = kE2M1[b >> 4] * sc;
        }
      }
      return;
    }
  }
}

size_t Linear::stored_bytes() const {
  const size_t n = static_cast<size_t>(out) * in;
  switch (format) {
    case WeightFormat::F32: return 4 * n;
    case WeightFormat::BF16: return 2 * n;
    case WeightFormat::FP8Block: return n + static_cast<size_t>((out + 127) / 128) * scale_cols;
    case WeightFormat::FP4Group: return n / 2 + static_cast<size_t>(out) * scale_cols;
  }
  return 0;
}

Linear load_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in) {
  const TensorView& w = ckpt.get(prefix + ".weight");
  Linear l;
  l.out = out;
  l.in = in;
  l.data = w.data;
  const bool scaled = ckpt.has(prefix + ".scale");
  if (w.dtype == DType::F32 || w.dtype == DType::BF16) {
    if (scaled) throw std::runtime_error("checkpoint: " + w.describe() + " is unquantized but has a .scale tensor");
    expect_shape(w, {out, in}, "");
    l.format = w.dtype == DType::F32 ? WeightFormat::F32 : WeightFormat::BF16;
    return l;
  }
  if (!scaled)
    throw std::runtime_error("checkpoint: " + w.describe() + " is quantized but '" + prefix + ".scale' is missing");
  const TensorView& s = ckpt.get(prefix + ".scale");
  if (s.dtype != DType::F8_E8M0)
    throw std::runtime_error("checkpoint: " + s.describe() + " should be F8_E8M0 (ue8m0 scales)");
  l.scale = s.data;
  if (w.dtype == DType::F8_E4M3) {
    expect_shape(w, {out, in}, "");
    expect_shape(s, {(out + 127) / 128, (in + 127) / 128}, " (one scale per 128x128 block)");
    l.format = WeightFormat::FP8Block;
    l.scale_cols = (in + 127) / 128;
    return l;
  }
  if (w.dtype == DType::I8) {
    if (in % 32) throw std::runtime_error("checkpoint: " + w.describe() + ": FP4 input dimension " + std::to_string(in) + " is not a multiple of 32");
    expect_shape(w, {out, in / 2}, " (packed FP4: two codes per byte)");
    expect_shape(s, {out, in / 32}, " (one scale per 32 inputs)");
    l.format = WeightFormat::FP4Group;
    l.scale_cols = in / 32;
    return l;
  }
  throw std::runtime_error("checkpoint: " + w.describe() + " has a dtype no linear weight uses");
}

std::vector<float> load_floats(const Checkpoint& ckpt, const std::string& name, int64_t numel) {
  const TensorView& t = ckpt.get(name);
  if (t.numel() != numel)
    throw std::runtime_error("checkpoint: " + t.describe() + " should have " + std::to_string(numel) + " elements");
  std::vector<float> v(static_cast<size_t>(numel));
  if (t.dtype == DType::F32) {
    std::memcpy(v.data(), t.data, v.size() * 4);
  } else if (t.dtype == DType::BF16) {
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t b;
      std::memcpy(&b, t.data + 2 * i, 2);
      v[i] = bf16_to_float(b);
    }
  } else {
    throw std::runtime_error("checkpoint: " + t.describe() + " should be F32 or BF16");
  }
  return v;
}

std::vector<int32_t> load_ints(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols) {
  const TensorView& t = ckpt.get(name);
  expect_shape(t, {rows, cols}, "");
  std::vector<int32_t> v(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t x;
    if (t.dtype == DType::I32) {
      int32_t y;
      std::memcpy(&y, t.data + 4 * i, 4);
      x = y;
    } else if (t.dtype == DType::I64) {
      std::memcpy(&x, t.data + 8 * i, 8);
    } else {
      throw std::runtime_error("checkpoint: " + t.describe() + " should be I32 or I64");
    }
    if (x < 0 || x > std::numeric_limits<int32_t>::max())
      throw std::runtime_error("checkpoint: " + t.describe() + " holds out-of-range value " + std::to_string(x) + " at " + std::to_string(i));
    v[i] = static_cast<int32_t>(x);
  }
  return v;
}

}  // namespace dsv4::engine
