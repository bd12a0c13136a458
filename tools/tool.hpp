#pragma once
// What a tool is: a name, a JSON schema for its arguments, traits for approval and MCP
// annotations, and a function from validated arguments to a JSON result.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::tools {

using Json = nlohmann::json;

// A failure the model can act on; becomes {"ok": false, "error": message}.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ToolContext {
  const sandbox::Workspace& workspace;
  // Set when the caller (an MCP client, the user) cancels the call.
  std::stop_token stop = {};
  // Progress of long calls: (done, total or 0 if unknown, message).
  std::function<void(double, double, std::string_view)> progress = {};
};

struct ToolTraits {
  bool read_only = true;     // changes nothing
  bool destructive = false;  // may overwrite or delete what exists
  bool idempotent = true;    // repeating the call has no further effect
  bool open_world = false;   // reaches beyond the workspace (processes, network)
};

struct Tool {
  std::string_view name;
  // JSON Schema (draft 2020-12 subset, see schema.hpp) of the arguments object.
  std::string_view schema;
  ToolTraits traits;
  Json (*run)(const Json& args, ToolContext& ctx);
  // JSON Schema of the result, for tools whose result has a fixed shape (MCP's
  // outputSchema); empty when it varies.
  std::string_view output_schema = {};
};

}  // namespace dsv4::tools
