#pragma once
// Where a name is used in one source file: identifier tokens spelled exactly like it,
// never inside comments or strings, and not the names that definitions introduce.
#include <cstdint>
#include <string_view>
#include <vector>

#include "tools/code/languages.hpp"

namespace dsv4::tools::code {

struct Reference {
  uint32_t line = 0;  // 1-based
  uint32_t column = 0;  // 1-based, in bytes
  uint32_t offset = 0;  // byte offset in the file
};

// The uses of `name` in `source`, in file order. Text that no identifier node covers
// (macro bodies in C, raw token trees of Rust macros) is not searched.
std::vector<Reference> find_references(const Language& lang, std::string_view source,
                                       std::string_view name);

// True when `name` is one token a reference search can match (letters, digits, `_`,
// `$`, or any non-ASCII byte; not starting with a digit).
bool is_identifier(std::string_view name);

}  // namespace dsv4::tools::code
