#pragma once
// The languages code intelligence understands, and how a file's language is chosen.
#include <span>
#include <string>
#include <string_view>

struct TSLanguage;

namespace dsv4::tools::code {

struct Language {
  std::string_view name;  // "cpp", "typescript", ...
  std::span<const std::string_view> extensions;  // with the dot: ".cpp"
  const TSLanguage* (*grammar)();
  // Query files (tools/code/queries/) whose concatenation finds its definitions; a
  // language built on another (C++ on C, TypeScript on JavaScript) reuses that one's.
  std::span<const std::string_view> query_files;
  // Joins a definition's name to its parent's in qualified names: "::" or ".".
  std::string_view scope_separator;
};

std::span<const Language> all_languages();

// The language of `path` by its extension, or nullptr when it is not supported.
const Language* language_for_path(std::string_view path);

// "C (.c), C++ (.cc .cpp ...), ..." for errors that must say what is supported.
std::string supported_languages();

}  // namespace dsv4::tools::code
