// outline: the definitions of one source file, nested, with their lines and signatures.
#include <nlohmann/json.hpp>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/code/definitions.hpp"
#include "tools/code/scan.hpp"

namespace dsv4::tools::builtin {
namespace {

using namespace code;

constexpr size_t kMaxDefinitions = 1000;

Json run_outline(const Json& args, ToolContext& ctx) {
  const auto path = args.at("path").get<std::string>();
  const auto rel = ctx.workspace.relative(path);
  const Language* lang = language_for_path(rel);
  if (!lang)
    throw ToolError("outline: '" + path + "' is not in a supported language (chosen by file " +
                    "extension); supported: " + supported_languages() +
                    ". Use read_file or search for other files.");
  struct ::stat st {};
  if (!ctx.workspace.stat(rel, st))
    throw ToolError("outline: '" + path + "' does not exist; check the path (relative to the "
                    "workspace root) with list_files");
  if (S_ISDIR(st.st_mode))
    throw ToolError("outline: '" + path + "' is a folder; give one file, or use find_symbol to "
                    "search a folder");
  std::string text;
  switch (read_source(ctx.workspace, rel, text)) {
    case Skip::too_large:
      throw ToolError("outline: '" + path + "' is over " + std::to_string(kMaxSourceBytes) +
                      " bytes (likely generated); use search or read_file with a line range");
    case Skip::binary:
      throw ToolError("outline: '" + path + "' is not a text file (it holds NUL bytes)");
    case Skip::none:
      break;
  }
  Outline found = code::outline(*lang, text);
  Json definitions = Json::array();
  ListBudget budget(kMaxDefinitions);
  for (const Definition& d : found.definitions) {
    Json entry = {{"kind", d.kind}, {"name", json_text(d.name)}, {"line", d.line},
                  {"end_line", d.end_line}};
    if (!d.scope.empty()) entry["scope"] = json_text(d.scope, 400);
    if (d.depth) entry["depth"] = d.depth;
    entry["signature"] = json_text(d.signature);
    if (!budget.take(entry.dump().size())) break;
    definitions.push_back(std::move(entry));
  }
  Json result = {{"path", json_text(rel, 4096)}, {"language", lang->name}, {"definitions", std::move(definitions)}};
  std::vector<std::string> notes;
  if (!found.error_lines.empty()) {
    std::string lines;
    for (uint32_t l : found.error_lines) lines += (lines.empty() ? "" : ", ") + std::to_string(l);
    notes.push_back("the file has syntax errors (near line " + lines +
                    "); definitions around them may be missing or cut short");
  }
  if (budget.shown() < found.definitions.size()) {
    result["truncated"] = true;
    notes.push_back("only the first " + std::to_string(budget.shown()) + " of " +
                    std::to_string(found.definitions.size()) +
                    " definitions are listed; use find_symbol or read_file for the rest");
  }
  if (!notes.empty()) result["note"] = join_notes(notes);
  return result;
}

}  // namespace

const Tool outline{
    "outline",
    R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1,
             "description": "source file, relative to the workspace root"}
  },
  "required": ["path"],
  "additionalProperties": false
})",
    {},
    run_outline,
};

}  // namespace dsv4::tools::builtin
