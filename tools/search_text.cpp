// search_text: a regex over the workspace, ripgrep's defaults, bounded results.
#include <nlohmann/json.hpp>

#include "tools/builtin.hpp"
#include "tools/regex.hpp"
#include "tools/text_search.hpp"
#include "tools/utf8_text.hpp"

namespace dsv4::tools::builtin {
namespace {

constexpr int kDefaultMaxResults = 100;

Json lines(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const auto& s : v) out.push_back(escape_invalid_utf8(s));
  return out;
}

Json run(const Json& args, ToolContext& ctx) {
  TextSearch request;
  request.pattern = args.at("pattern").get<std::string>();
  request.path = args.value("path", "");
  request.glob = args.value("glob", "");
  request.ignore_case = args.value("ignore_case", false);
  request.context = args.value("context", 0);
  request.max_results = static_cast<size_t>(args.value("max_results", kDefaultMaxResults));
  request.stop = ctx.stop;
  TextSearchResult found;
  try {
    found = search_tree(ctx.workspace, request);
  } catch (const RegexError& e) {
    throw ToolError(e.what());
  } catch (const std::invalid_argument& e) {
    throw ToolError(std::string("glob: ") + e.what());
  }
  Json matches = Json::array();
  for (const auto& m : found.matches) {
    Json j{{"path", escape_invalid_utf8(m.path)}, {"line", m.line}, {"col", m.column},
           {"text", escape_invalid_utf8(m.text)}};
    if (!m.before.empty()) j["before"] = lines(m.before);
    if (!m.after.empty()) j["after"] = lines(m.after);
    matches.push_back(std::move(j));
  }
  Json result{{"matches", std::move(matches)}, {"truncated", found.truncated}};
  if (found.truncated)
    result["note"] = "only the first " + std::to_string(request.max_results) +
                     " matching lines are shown; narrow the search with path, glob or a more "
                     "specific pattern, or raise max_results";
  else if (found.matches.empty())
    result["note"] = "no match in " + std::to_string(found.files_searched) +
                     " files searched (hidden, ignored and binary files are skipped)";
  return result;
}

constexpr std::string_view kSchema = R"({
  "type": "object",
  "properties": {
    "pattern": {"type": "string", "maxLength": 4096},
    "path": {"type": "string"},
    "glob": {"type": "string", "minLength": 1},
    "ignore_case": {"type": "boolean"},
    "context": {"type": "integer", "minimum": 0, "maximum": 10},
    "max_results": {"type": "integer", "minimum": 1, "maximum": 2000}
  },
  "required": ["pattern"],
  "additionalProperties": false
})";

// The result's shape, for MCP clients (outputSchema).
constexpr std::string_view kResultSchema = R"json({
  "type": "object",
  "properties": {
    "ok": {"type": "boolean"},
    "matches": {"type": "array", "items": {
      "type": "object",
      "properties": {
        "path": {"type": "string"}, "line": {"type": "integer"}, "col": {"type": "integer"},
        "text": {"type": "string"},
        "before": {"type": "array", "items": {"type": "string"}},
        "after": {"type": "array", "items": {"type": "string"}}
      },
      "required": ["path", "line", "col", "text"]
    }},
    "truncated": {"type": "boolean"},
    "note": {"type": "string"}
  },
  "required": ["ok", "matches", "truncated"]
})json";

}  // namespace

const Tool search_text{"search_text", kSchema, {}, run, kResultSchema};

}  // namespace dsv4::tools::builtin
