#pragma once
// Every built-in tool, and the one way to call them: validate, run, bound the result.
#include <nlohmann/json_fwd.hpp>

#include <span>
#include <string_view>

#include "tools/tool.hpp"

namespace dsv4::tools {

// Results larger than this are cut by the registry (tools cut their own output sooner,
// in ways that say how to get the rest).
inline constexpr size_t kMaxResultBytes = 128 * 1024;

std::span<const Tool> all_tools();
// nullptr if there is no such tool.
const Tool* find_tool(std::string_view name);
// The description shown to the model: prompts/tools/<name>.md.
std::string_view tool_description(const Tool& tool);

// Validates `args` against the tool's schema, runs it, and returns its JSON result:
// {"ok": true, ...} or {"ok": false, "error": "..."}. Never throws for tool failures.
Json call_tool(const Tool& tool, const Json& args, ToolContext& ctx);

}  // namespace dsv4::tools
