// list_files: the workspace tree as the search sees it, sorted and bounded.
#include <nlohmann/json.hpp>

#include <optional>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/glob.hpp"
#include "tools/utf8_text.hpp"
#include "tools/walk.hpp"

namespace dsv4::tools::builtin {
namespace {

constexpr size_t kMaxEntries = 1000;

Json run(const Json& args, ToolContext& ctx) {
  WalkOptions options;
  options.path = ctx.workspace.relative(args.value("path", ""));
  options.max_depth = args.value("depth", -1);
  options.sorted = true;
  std::optional<PathGlob> glob;
  try {
    if (args.contains("glob")) glob.emplace(args["glob"].get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw ToolError(std::string("glob: ") + e.what());
  }
  struct ::stat st {};
  if (!ctx.workspace.stat(options.path, st))
    throw ToolError("'" + options.path + "' does not exist; list its parent folder to see what is there");
  if (!S_ISDIR(st.st_mode))
    throw ToolError("'" + options.path + "' is a file, not a folder; read it instead");

  Json entries = Json::array();
  bool truncated = false;
  walk(ctx.workspace, options, [&](const Entry& e) {
    if (glob && !glob->matches(e.path)) return true;
    if (entries.size() == kMaxEntries) {
      truncated = true;
      return false;
    }
    entries.push_back(escape_invalid_utf8(e.path) + (e.kind == Entry::Kind::dir ? "/" : ""));
    return !ctx.stop.stop_requested();
  });
  Json result{{"entries", std::move(entries)}, {"truncated", truncated}};
  if (truncated)
    result["note"] = "only the first " + std::to_string(kMaxEntries) +
                     " entries in path order are shown; narrow with path, glob or depth";
  return result;
}

constexpr std::string_view kSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string"},
    "glob": {"type": "string", "minLength": 1},
    "depth": {"type": "integer", "minimum": 1, "maximum": 1000}
  },
  "additionalProperties": false
})";

// The result's shape, for MCP clients (outputSchema).
constexpr std::string_view kResultSchema = R"json({
  "type": "object",
  "properties": {
    "ok": {"type": "boolean"},
    "entries": {"type": "array", "items": {"type": "string"}},
    "truncated": {"type": "boolean"},
    "note": {"type": "string"}
  },
  "required": ["ok", "entries", "truncated"]
})json";

}  // namespace

const Tool list_files{"list_files", kSchema, {}, run, kResultSchema};

}  // namespace dsv4::tools::builtin
