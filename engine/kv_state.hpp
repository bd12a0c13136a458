#pragma once
// Everything the DeepSeek-V4 forward pass remembers between calls, as one plain value: copying it
// forks a conversation, and serialise/restore round-trips it exactly (the prefix cache format).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/model_config.hpp"

namespace dsv4::engine {

// A KV compressor's memory (§7): the tokens of windows that still feed a future entry, and the
// entries emitted so far (append-only).
struct CompressorState {
  int64_t first_pos = 0;       // position of the first pending row
  std::vector<float> k, g;     // pending rows [rows, width]; g already includes ape[pos % ratio]
  std::vector<float> entries;  // [count, dim], RMS-normed and rotated

  bool operator==(const CompressorState&) const = default;
};

struct LayerState {
  std::vector<float> window;  // [sliding_window, head_dim]: the kv of position p sits in slot p % W
  CompressorState compressor;        // ratio 4 and 128 layers
  CompressorState index_compressor;  // ratio 4 layers: the lightning indexer's keys

  bool operator==(const LayerState&) const = default;
};

struct DecodeState {
  int64_t pos = 0;  // tokens the main model has consumed
  std::vector<LayerState> layers;
  int64_t mtp_pos = 0;  // tokens the MTP layer has consumed
  LayerState mtp;

  bool operator==(const DecodeState&) const = default;
};

DecodeState empty_state(const ModelConfig& config);

// Self-describing little-endian binary: a magic line, then named arrays with their shapes.
std::string serialize_state(const DecodeState& state);
// Checks every array's name and shape against `config` (errors say which array is wrong).
DecodeState deserialize_state(const std::string& bytes, const ModelConfig& config);

size_t state_bytes(const DecodeState& state);  // floats held, in bytes

}  // namespace dsv4::engine
