#pragma once
// Parsing with tree-sitter, shared by the definition and reference finders. Internal to
// tools/code (it exposes tree-sitter's API), never included elsewhere.
#include <tree_sitter/api.h>

#include <memory>
#include <string>
#include <string_view>

#include "tools/code/definitions.hpp"
#include "tools/code/languages.hpp"

namespace dsv4::tools::code {

struct TreeDeleter {
  void operator()(TSTree* tree) const { ts_tree_delete(tree); }
};
using Tree = std::unique_ptr<TSTree, TreeDeleter>;

// Parses `source` as `lang`. Bad syntax never fails: it becomes ERROR and MISSING nodes.
Tree parse(const Language& lang, std::string_view source);

// The language's definition query, compiled once and shared by all threads (a TSQuery
// is read-only once built; each search uses its own cursor).
const TSQuery& definition_query(const Language& lang);

inline std::string_view node_text(TSNode node, std::string_view source) {
  uint32_t begin = ts_node_start_byte(node), end = ts_node_end_byte(node);
  return end <= source.size() && begin <= end ? source.substr(begin, end - begin) : std::string_view{};
}

// The definitions in an already parsed tree (outline() parses, then calls this).
Outline outline_tree(const Language& lang, const TSTree& tree, std::string_view source);

// The whole line that holds byte `at`, without its newline.
std::string_view line_at(std::string_view source, uint32_t at);

}  // namespace dsv4::tools::code
