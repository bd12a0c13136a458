// find_symbol: where a name is defined, across the workspace or one folder.
#include <nlohmann/json.hpp>


#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/code/definitions.hpp"
#include "tools/code/scan.hpp"

namespace dsv4::tools::builtin {
namespace {

using namespace code;

// `Inventory.Report`, `util::LruCache` and `LruCache::get` compare alike.
std::string dotted(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name.substr(i, 2) == "::") {
      out += '.';
      ++i;
    } else {
      out += name[i];
    }
  }
  return out;
}

// A bare name matches the definition's name; a qualified one matches the end of its
// qualified name at a separator.
bool matches(const Definition& d, const Language& lang, std::string_view query,
             bool qualified) {
  if (!qualified) return d.name == query;
  auto full = dotted(d.qualified_name(lang.scope_separator));
  return full == query || (full.size() > query.size() && full.ends_with(query) &&
                           full[full.size() - query.size() - 1] == '.');
}

Json run_find_symbol(const Json& args, ToolContext& ctx) {
  const auto name = args.at("name").get<std::string>();
  const auto kind = args.value("kind", std::string());
  const auto path = args.value("path", std::string());
  const auto limit = args.value("limit", 50);
  const std::string query = dotted(name);
  const bool qualified = query.find('.') != std::string::npos;
  // The last part must appear in the file for any definition in it to match.
  const std::string last = query.substr(query.rfind('.') == std::string::npos ? 0 : query.rfind('.') + 1);
  if (last.empty()) throw ToolError("find_symbol: '" + name + "' ends with a separator; give a name such as 'LruCache::get' or 'get'");

  auto files = source_files(ctx.workspace, path);
  std::vector<std::vector<Definition>> per_file(files.size());
  auto report = for_each_source(ctx.workspace, files, ctx.stop, [&](size_t i, std::string_view text) {
    if (text.find(last) == std::string_view::npos) return;
    for (Definition& d : code::outline(*files[i].language, text).definitions)
      if ((kind.empty() || d.kind == kind) && matches(d, *files[i].language, query, qualified))
        per_file[i].push_back(std::move(d));
  });

  Json found = Json::array();
  size_t total = 0;
  ListBudget budget(static_cast<size_t>(limit));
  for (size_t i = 0; i < files.size(); ++i) {
    for (const Definition& d : per_file[i]) {
      ++total;
      Json entry = {{"path", json_text(files[i].path, 4096)}, {"line", d.line},
                    {"end_line", d.end_line}, {"kind", d.kind}, {"name", json_text(d.name)}};
      if (!d.scope.empty()) entry["scope"] = json_text(d.scope, 400);
      entry["signature"] = json_text(d.signature);
      if (budget.take(entry.dump().size())) found.push_back(std::move(entry));
    }
  }
  Json result = {{"definitions", std::move(found)}, {"total", total}, {"files_searched", report.files}};
  std::vector<std::string> notes;
  if (budget.shown() < total) {
    result["truncated"] = true;
    notes.push_back("showing " + std::to_string(budget.shown()) + " of " + std::to_string(total) +
                    " definitions; narrow with kind, path or a qualified name (Class.method)");
  }
  if (total == 0)
    notes.push_back("no definition named '" + name + "'" + (kind.empty() ? "" : " of kind " + kind) +
                    " in " + std::to_string(report.files) +
                    " source files; check the spelling, or use search_text for other files");
  if (auto skipped = report.note(); !skipped.empty()) notes.push_back(skipped);
  if (!notes.empty()) result["note"] = join_notes(notes);
  return result;
}

}  // namespace

const Tool find_symbol{
    "find_symbol",
    R"json({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 400,
             "description": "name of the definition: 'evict', or qualified: 'LruCache::evict', 'Inventory.add'"},
    "kind": {"type": "string",
             "enum": ["function", "method", "constructor", "class", "struct", "union", "enum",
                      "enum_member", "interface", "trait", "impl", "namespace", "module",
                      "package", "type", "constant", "variable", "field", "macro"],
             "description": "only definitions of this kind"},
    "path": {"type": "string", "description": "folder (or file) to search, relative to the workspace root; default: all of it"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 500, "description": "most definitions to return (default 50)"}
  },
  "required": ["name"],
  "additionalProperties": false
})json",
    {},
    run_find_symbol,
};

}  // namespace dsv4::tools::builtin
