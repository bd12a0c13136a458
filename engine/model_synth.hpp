#pragma once
// Random-weight DeepSeek-V4 checkpoints of any shape, stored the way the real checkpoint stores
// its tensors (for tests and benchmarks at realistic dimensions).
#include <cstdint>
#include <filesystem>
#include <string>

namespace dsv4::engine {

enum class SynthDtype {
  F32,         // every tensor float32 (tid2eid int32), like the golden float models
  BF16,        // linears, embeddings and norms BF16; hyper-connection, ape, sinks, biases F32
  FP8,         // the real checkpoint's classes, routed experts FP8 too
  FP4Experts,  // the real checkpoint: FP8 linears, FP4 routed experts, BF16/F32 elsewhere
};

SynthDtype parse_synth_dtype(const std::string& name);  // f32 | bf16 | fp8 | fp4-experts

// Writes out_dir/config.json (the given config, plus quantization_config / expert_dtype as the
// dtype needs) and out_dir/model.safetensors, streaming tensor by tensor.
void synth_model(const std::filesystem::path& config_json, const std::filesystem::path& out_dir, uint64_t seed,
                 SynthDtype dtype);

// Encoders (round to nearest, ties to even), exposed for tests.
uint16_t float_to_bf16(float v);
uint8_t float_to_e4m3(float v);  // |v| saturates at 448
uint8_t float_to_e2m1(float v);  // |v| saturates at 6

}  // namespace dsv4::engine
