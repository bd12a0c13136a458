#include "tools/code/syntax.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include "tools/code/queries.hpp"

namespace dsv4::tools::code {
namespace {

std::string_view query_file(std::string_view name) {
  for (const auto& [file, text] : queries::all())
    if (file == name) return text;
  throw std::logic_error("no embedded query file '" + std::string(name) + "'");
}

const char* query_error_name(TSQueryError error) {
  switch (error) {
    case TSQueryErrorSyntax: return "syntax error";
    case TSQueryErrorNodeType: return "unknown node type";
    case TSQueryErrorField: return "unknown field";
    case TSQueryErrorCapture: return "unknown capture";
    case TSQueryErrorStructure: return "impossible pattern";
    case TSQueryErrorLanguage: return "incompatible language";
    default: return "error";
  }
}

TSQuery* compile(const Language& lang) {
  std::string text;
  for (auto file : lang.query_files) text.append(query_file(file)).append("\n");
  uint32_t offset = 0;
  TSQueryError error = TSQueryErrorNone;
  TSQuery* query = ts_query_new(lang.grammar(), text.data(), static_cast<uint32_t>(text.size()),
                                &offset, &error);
  if (!query) {
    // A bug in our own query files: say exactly where, for whoever edits them.
    auto context = text.substr(offset, 60);
    throw std::logic_error("definition query for " + std::string(lang.name) + ": " +
                           query_error_name(error) + " at byte " + std::to_string(offset) +
                           " near '" + context + "'");
  }
  return query;
}

}  // namespace

Tree parse(const Language& lang, std::string_view source) {
  std::unique_ptr<TSParser, void (*)(TSParser*)> parser(ts_parser_new(), ts_parser_delete);
  if (!ts_parser_set_language(parser.get(), lang.grammar()))
    throw std::logic_error("tree-sitter grammar for " + std::string(lang.name) +
                           " has an ABI this tree-sitter library cannot load");
  Tree tree(ts_parser_parse_string(parser.get(), nullptr, source.data(),
                                   static_cast<uint32_t>(source.size())));
  if (!tree) throw std::runtime_error("tree-sitter could not parse the file");
  return tree;
}

const TSQuery& definition_query(const Language& lang) {
  static std::mutex mutex;
  static std::map<std::string_view, TSQuery*> compiled;  // lives as long as the program
  std::lock_guard lock(mutex);
  auto& query = compiled[lang.name];
  if (!query) query = compile(lang);
  return *query;
}

std::string_view line_at(std::string_view source, uint32_t at) {
  if (at > source.size()) return {};
  size_t begin = at == 0 ? std::string_view::npos : source.rfind('\n', at - 1);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  size_t end = std::min(source.find('\n', at), source.size());
  return source.substr(begin, end - begin);
}

}  // namespace dsv4::tools::code
