#include "tools/code/definitions.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include "tools/code/syntax.hpp"

namespace dsv4::tools::code {
namespace {

constexpr size_t kMaxErrorLines = 5;

// Kinds whose nested functions are methods and whose variables are fields.
bool is_type_like(std::string_view kind) {
  return kind == "class" || kind == "struct" || kind == "union" || kind == "interface" ||
         kind == "trait" || kind == "impl" || kind == "enum";
}

// A declaration inside a C/C++ block is a local even when no function definition
// encloses it: function-like macros such as TEST_CASE("...") { ... } hide the function.
bool in_c_block(TSNode node) {
  for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up))
    if (std::string_view(ts_node_type(up)) == "compound_statement") return true;
  return false;
}

bool is_callable(std::string_view kind) {
  return kind == "function" || kind == "method" || kind == "constructor";
}

// What one query match found: the whole definition, its name (or a C declarator that
// holds it), and an optional node whose type names the scope (a Go receiver).
struct Match {
  std::string_view kind;
  TSNode definition{}, name{}, scope{};
  bool has_definition = false, has_name = false, name_in_declarator = false, has_scope = false;
};

Match read_match(const TSQuery& query, const TSQueryMatch& m) {
  Match out;
  for (uint16_t i = 0; i < m.capture_count; ++i) {
    uint32_t length = 0;
    const char* chars = ts_query_capture_name_for_id(&query, m.captures[i].index, &length);
    std::string_view capture(chars, length);
    TSNode node = m.captures[i].node;
    if (capture == "name" || capture == "declarator") {
      out.name = node;
      out.has_name = true;
      out.name_in_declarator = capture == "declarator";
    } else if (capture == "scope") {
      out.scope = node;
      out.has_scope = true;
    } else if (capture.starts_with("definition.")) {
      out.kind = capture.substr(std::string_view("definition.").size());
      out.definition = node;
      out.has_definition = true;
    }
  }
  return out;
}

// The name inside a C/C++ declarator (`*const table[]`, `(*callback)(int)`, `f(void)`),
// and whether the declarator declares a function rather than a pointer to one.
TSNode unwrap_declarator(TSNode node, bool& is_function) {
  is_function = false;
  for (int guard = 0; guard < 64 && !ts_node_is_null(node); ++guard) {
    std::string_view type = ts_node_type(node);
    TSNode inner = ts_node_child_by_field_name(node, "declarator", 10);
    if (type == "function_declarator") is_function = true;
    if (type == "parenthesized_declarator" || type == "reference_declarator") {
      is_function = false;
      inner = ts_node_named_child(node, ts_node_named_child_count(node) - 1);
    } else if (type == "template_function") {
      inner = ts_node_child_by_field_name(node, "name", 4);
    }
    if (ts_node_is_null(inner)) return node;
    node = inner;
  }
  return node;
}

// Type text as a scope: no pointers, references, template or generic arguments, spaces.
std::string plain_type(std::string_view text) {
  std::string out;
  int depth = 0;
  for (char c : text) {
    if (c == '<' || c == '[') ++depth;
    else if ((c == '>' || c == ']') && depth > 0) --depth;
    else if (depth == 0 && c != '*' && c != '&' && c != ' ' && c != '\t' && c != '\n') out += c;
  }
  return out;
}

// C++ `A::B::name` (and `namespace a::b`): the last name is the definition's, the rest
// joins its scope.
TSNode unqualify(TSNode name, std::string_view source, std::string& qualifier) {
  TSNode inner = name;
  for (;;) {
    std::string_view type = ts_node_type(inner);
    TSNode next = type == "qualified_identifier" ? ts_node_child_by_field_name(inner, "name", 4)
                  : type == "nested_namespace_specifier"
                      ? ts_node_named_child(inner, ts_node_named_child_count(inner) - 1)
                      : TSNode{};
    if (ts_node_is_null(next)) break;
    inner = next;
  }
  if (ts_node_eq(inner, name)) return name;
  qualifier = plain_type(source.substr(ts_node_start_byte(name),
                                       ts_node_start_byte(inner) - ts_node_start_byte(name)));
  while (qualifier.ends_with(':')) qualifier.pop_back();
  return inner;
}

// The innermost ERROR and MISSING nodes point nearest to the mistake; an outer ERROR
// node may start many lines before it.
void collect_error_lines(TSNode node, std::vector<uint32_t>& lines) {
  if (lines.size() >= kMaxErrorLines || !ts_node_has_error(node)) return;
  bool inner = false;
  for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
    TSNode child = ts_node_child(node, i);
    if (!ts_node_has_error(child)) continue;
    inner = true;
    collect_error_lines(child, lines);
  }
  bool is_error = std::string_view(ts_node_type(node)) == "ERROR" || ts_node_is_missing(node);
  if (is_error && !inner && lines.size() < kMaxErrorLines) {
    // An ERROR node also wraps the good code around the stray tokens: point at the
    // first stray token (a bare leaf) when there is one.
    TSNode at = node;
    for (uint32_t i = 0, n = ts_node_child_count(node); i < n; ++i) {
      TSNode child = ts_node_child(node, i);
      if (ts_node_child_count(child) == 0) {
        at = child;
        break;
      }
    }
    uint32_t line = ts_node_start_point(at).row + 1;
    if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(line);
  }
}

}  // namespace

std::string Definition::qualified_name(std::string_view separator) const {
  return scope.empty() ? name : scope + std::string(separator) + name;
}

std::string_view trimmed_line(std::string_view source, uint32_t offset) {
  auto line = line_at(source, offset);
  auto first = line.find_first_not_of(" \t\r");
  auto last = line.find_last_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return line.substr(first, last - first + 1);
}

Outline outline_tree(const Language& lang, const TSTree& tree, std::string_view source) {
  struct Found {
    Definition def;
    uint32_t begin, end;  // the whole definition's bytes, for nesting
    uint32_t pattern;  // earlier patterns win when two capture the same name
    std::string qualifier;
  };
  std::vector<Found> found;
  std::map<uint32_t, size_t> by_name;  // name start byte -> index in `found`

  const TSQuery& query = definition_query(lang);
  std::unique_ptr<TSQueryCursor, void (*)(TSQueryCursor*)> cursor(ts_query_cursor_new(),
                                                                   ts_query_cursor_delete);
  TSNode root = ts_tree_root_node(&tree);
  ts_query_cursor_exec(cursor.get(), &query, root);
  TSQueryMatch m;
  while (ts_query_cursor_next_match(cursor.get(), &m)) {
    Match match = read_match(query, m);
    if (!match.has_definition || !match.has_name) continue;
    TSNode name = match.name;
    if (match.name_in_declarator) {
      bool is_function = false;
      name = unwrap_declarator(name, is_function);
      // A function declarator outside a function definition is a prototype.
      if (is_function != (match.kind == "function")) continue;
    }
    if (match.kind == "variable" && in_c_block(match.definition)) continue;
    std::string qualifier;
    name = unqualify(name, source, qualifier);
    if (match.has_scope) qualifier = plain_type(node_text(match.scope, source));
    auto name_text = node_text(name, source);
    if (name_text.empty()) continue;

    uint32_t name_begin = ts_node_start_byte(name);
    auto [slot, fresh] = by_name.try_emplace(name_begin, found.size());
    if (!fresh && found[slot->second].pattern <= m.pattern_index) continue;
    Found f;
    f.begin = ts_node_start_byte(match.definition);
    f.end = ts_node_end_byte(match.definition);
    f.pattern = m.pattern_index;
    f.qualifier = std::move(qualifier);
    Definition& d = f.def;
    d.kind = match.kind;
    d.name = name_text.substr(0, kMaxSignatureBytes);
    TSPoint at = ts_node_start_point(name);
    d.line = at.row + 1;
    d.column = at.column + 1;
    TSPoint end = ts_node_end_point(match.definition);
    // A node ending at column 0 ends with the previous line's newline.
    d.end_line = end.column == 0 && end.row > at.row ? end.row : end.row + 1;
    d.signature = trimmed_line(source, name_begin).substr(0, kMaxSignatureBytes);
    d.name_begin = name_begin;
    d.name_end = ts_node_end_byte(name);
    if (fresh) found.push_back(std::move(f));
    else found[slot->second] = std::move(f);
  }

  // Outer definitions first, so that each one's parent is placed before it.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return std::tie(a.begin, b.end, a.def.name_begin) < std::tie(b.begin, a.end, b.def.name_begin);
  });
  Outline out;
  struct Open {
    uint32_t begin, end;
    int index;  // in the outline
  };
  std::vector<Open> open;  // the definitions enclosing the current one, innermost last
  for (Found& f : found) {
    // The same node can define several names (`a, b = 1, 2`): siblings, not parents.
    while (!open.empty() && (open.back().end < f.end ||
                             (open.back().begin == f.begin && open.back().end == f.end)))
      open.pop_back();
    Definition& d = f.def;
    if (!open.empty()) {
      const Definition& parent = out.definitions[open.back().index];
      // Locals, and the members of object and type literals inside functions.
      if (is_callable(parent.kind) &&
          (d.kind == "variable" || d.kind == "constant" || d.kind == "field"))
        continue;
      d.parent = open.back().index;
      d.depth = parent.depth + 1;
      d.scope = parent.qualified_name(lang.scope_separator);
      if (is_type_like(parent.kind)) {
        if (d.kind == "function") d.kind = "method";
        if (d.kind == "variable") d.kind = "field";
      }
    }
    if (!f.qualifier.empty())
      d.scope = d.scope.empty() ? f.qualifier
                                : d.scope + std::string(lang.scope_separator) + f.qualifier;
    open.push_back({f.begin, f.end, static_cast<int>(out.definitions.size())});
    out.definitions.push_back(std::move(d));
  }
  collect_error_lines(root, out.error_lines);
  return out;
}

Outline outline(const Language& lang, std::string_view source) {
  Tree tree = parse(lang, source);
  return outline_tree(lang, *tree, source);
}

}  // namespace dsv4::tools::code
