// write_file: replace or create a whole file, atomically.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/file_access.hpp"

namespace dsv4::tools::builtin {
namespace {

constexpr std::string_view kSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "file to write, relative to the workspace root"},
    "content": {"type": "string", "description": "the complete new contents of the file"}
  },
  "required": ["path", "content"],
  "additionalProperties": false
})";

Json run(const Json& args, ToolContext& ctx) {
  const auto path = args.at("path").get<std::string>();
  const auto& content = args.at("content").get_ref<const std::string&>();
  const std::string shown = shown_path(ctx.workspace, path);
  if (ctx.workspace.relative(path).empty())
    throw ToolError("the path names the workspace root itself; name a file inside it");

  struct ::stat st {};
  bool existed = ctx.workspace.stat(path, st);
  if (existed && S_ISDIR(st.st_mode))
    throw ToolError("'" + shown + "' is a folder; name a file (for example '" + shown + "/NAME')");
  if (existed && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    throw ToolError("'" + shown + "' exists and is not a regular file; refused");
  ctx.workspace.write_atomic(path, content);

  auto newlines = static_cast<size_t>(std::count(content.begin(), content.end(), '\n'));
  size_t lines = newlines + (!content.empty() && content.back() != '\n');
  return Json{{"path", shown},
              {"status", existed ? "overwritten" : "created"},
              {"bytes", content.size()},
              {"lines", lines}};
}

}  // namespace

const Tool write_file{"write_file", kSchema, {.read_only = false, .destructive = true, .idempotent = true}, run};

}  // namespace dsv4::tools::builtin
