// find_references: where a name is used, by syntax tree rather than by text.
#include <nlohmann/json.hpp>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/code/definitions.hpp"
#include "tools/code/references.hpp"
#include "tools/code/scan.hpp"

namespace dsv4::tools::builtin {
namespace {

using namespace code;

struct Use {
  Reference at;
  std::string text;  // the line, trimmed
};

Json run_find_references(const Json& args, ToolContext& ctx) {
  const auto name = args.at("name").get<std::string>();
  const auto path = args.value("path", std::string());
  const auto limit = static_cast<size_t>(args.value("limit", 100));
  if (!is_identifier(name))
    throw ToolError("find_references: '" + name + "' is not a single identifier; give the bare "
                    "name ('evict', not 'LruCache::evict' or 'obj.evict()'), or use search_text "
                    "for other text");

  auto files = source_files(ctx.workspace, path);
  std::vector<std::vector<Use>> per_file(files.size());
  auto report = for_each_source(ctx.workspace, files, ctx.stop, [&](size_t i, std::string_view text) {
    for (const Reference& r : code::find_references(*files[i].language, text, name))
      per_file[i].push_back({r, json_text(trimmed_line(text, r.offset))});
  });

  Json uses = Json::array();
  size_t total = 0, in_files = 0;
  ListBudget budget(limit);
  for (size_t i = 0; i < files.size(); ++i) {
    if (!per_file[i].empty()) ++in_files;
    for (const Use& u : per_file[i]) {
      ++total;
      Json entry = {{"path", json_text(files[i].path, 4096)}, {"line", u.at.line},
                    {"col", u.at.column}, {"text", u.text}};
      if (budget.take(entry.dump().size())) uses.push_back(std::move(entry));
    }
  }
  Json result = {{"references", std::move(uses)}, {"total", total}, {"files", in_files},
                 {"files_searched", report.files}};
  std::vector<std::string> notes;
  if (budget.shown() < total) {
    result["truncated"] = true;
    notes.push_back("showing " + std::to_string(budget.shown()) + " of " + std::to_string(total) +
                    " references; narrow with path, or raise limit");
  }
  if (total == 0)
    notes.push_back("no use of '" + name + "' in " + std::to_string(report.files) +
                    " source files (definitions, comments and strings are not uses); "
                    "search_text also finds it in other text");
  if (auto skipped = report.note(); !skipped.empty()) notes.push_back(skipped);
  if (!notes.empty()) result["note"] = join_notes(notes);
  return result;
}

}  // namespace

const Tool find_references{
    "find_references",
    R"json({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 400,
             "description": "the identifier whose uses to find, e.g. 'evict'"},
    "path": {"type": "string", "description": "folder (or file) to search, relative to the workspace root; default: all of it"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "most references to return (default 100)"}
  },
  "required": ["name"],
  "additionalProperties": false
})json",
    {},
    run_find_references,
};

}  // namespace dsv4::tools::builtin
