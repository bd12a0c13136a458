#pragma once
// The definitions of one source file (functions, classes, ...), found with the
// language's tree-sitter query, nested by where they sit in the file.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/code/languages.hpp"

namespace dsv4::tools::code {

struct Definition {
  std::string kind;  // function, method, class, struct, enum, interface, trait, impl, ...
  std::string name;
  // Qualified name of what encloses it ("util::LruCache", "Inventory.Report"), including
  // the qualifier written at the definition (C++ `Circle::area`, Go receivers); "" at top.
  std::string scope;
  int parent = -1;  // index of the enclosing definition in the outline, -1 at top level
  int depth = 0;
  uint32_t line = 0;  // 1-based line of the name (where ctags puts it)
  uint32_t column = 0;  // 1-based byte column of the name
  uint32_t end_line = 0;  // last line of the whole definition
  // The name's line, trimmed, at most kMaxSignatureBytes. Like name and scope it holds
  // the file's bytes, which need not be UTF-8.
  std::string signature;
  uint32_t name_begin = 0, name_end = 0;  // byte range of the name in the file

  std::string qualified_name(std::string_view separator) const;
};

struct Outline {
  std::vector<Definition> definitions;  // in source order, parents before children
  std::vector<uint32_t> error_lines;  // 1-based lines with syntax errors (the first few)
};

// Never fails on bad syntax: tree-sitter recovers and the rest of the file is outlined.
Outline outline(const Language& lang, std::string_view source);

inline constexpr size_t kMaxSignatureBytes = 400;

// The line of `source` that holds byte `offset`, without surrounding blanks.
std::string_view trimmed_line(std::string_view source, uint32_t offset);

}  // namespace dsv4::tools::code
