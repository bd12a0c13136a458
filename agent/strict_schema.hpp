#pragma once
// Tool schemas for strict function calling (OpenAI's `strict`, DeepSeek's beta endpoint): the
// server then constrains the arguments to the schema, which must be closed and list every
// property as required. Optional properties become "this type or null"; tool_repair drops
// such nulls again before a tool sees them.
#include <nlohmann/json_fwd.hpp>
#include <optional>

namespace dsv4::agent {

// The strict form of a tool's parameter schema; nullopt when strict mode cannot express it
// (an object whose keys are free, like a map), so the tool is sent as it is.
std::optional<nlohmann::json> strict_schema(const nlohmann::json& schema);

}  // namespace dsv4::agent
