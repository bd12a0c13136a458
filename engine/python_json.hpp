#pragma once
// JSON text exactly as Python's json.dumps(value, ensure_ascii=False) writes it, because the
// DeepSeek-V4 prompt format embeds that form (tool schemas, response formats, non-string
// tool-call parameters) and the model was trained on it byte for byte.
#include <nlohmann/json_fwd.hpp>

#include <string>

namespace dsv4::engine {

// Separators ", " and ": "; only '"', '\\' and control characters escaped; floats in
// Python's shortest round-trip form (1.0, 1e+16, 1.5e-07); key order as stored.
std::string python_json(const nlohmann::ordered_json& value);

}  // namespace dsv4::engine
