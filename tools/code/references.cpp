#include "tools/code/references.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "tools/code/syntax.hpp"

namespace dsv4::tools::code {
namespace {

// Leaf node types that name something: identifier, type_identifier, field_identifier,
// property_identifier, namespace_identifier, package_identifier, ... in every grammar.
bool names_something(TSNode node) {
  if (!ts_node_is_named(node) || ts_node_child_count(node) != 0) return false;
  return std::string_view(ts_node_type(node)).ends_with("identifier");
}

}  // namespace

bool is_identifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) || c == '_' || c == '$';
  });
}

std::vector<Reference> find_references(const Language& lang, std::string_view source,
                                       std::string_view name) {
  std::vector<Reference> found;
  if (name.empty() || source.find(name) == std::string_view::npos) return found;
  Tree tree = parse(lang, source);

  // The names definitions introduce are not uses; an impl block's name is the type it
  // implements, which is one.
  std::set<uint32_t> definition_names;
  for (const Definition& d : outline_tree(lang, *tree, source).definitions)
    if (d.kind != "impl") definition_names.insert(d.name_begin);

  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree.get()));
  for (bool more = true; more;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    if (names_something(node) && node_text(node, source) == name &&
        !definition_names.count(ts_node_start_byte(node))) {
      TSPoint at = ts_node_start_point(node);
      found.push_back({at.row + 1, at.column + 1, ts_node_start_byte(node)});
    }
    // Depth-first, skipping subtrees that cannot hold the name.
    bool descend = ts_node_end_byte(node) - ts_node_start_byte(node) >= name.size();
    if (descend && ts_tree_cursor_goto_first_child(&cursor)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        more = false;
        break;
      }
    }
  }
  ts_tree_cursor_delete(&cursor);
  return found;
}

}  // namespace dsv4::tools::code
