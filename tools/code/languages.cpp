#include "tools/code/languages.hpp"

#include <array>

extern "C" {
const TSLanguage* tree_sitter_c();
const TSLanguage* tree_sitter_cpp();
const TSLanguage* tree_sitter_python();
const TSLanguage* tree_sitter_javascript();
const TSLanguage* tree_sitter_typescript();
const TSLanguage* tree_sitter_tsx();
const TSLanguage* tree_sitter_go();
const TSLanguage* tree_sitter_rust();
const TSLanguage* tree_sitter_java();
}

namespace dsv4::tools::code {
namespace {

constexpr std::string_view kCExt[] = {".c"};
// .h goes to C++ as in ctags: its grammar parses C headers too, and C++ headers need it.
constexpr std::string_view kCppExt[] = {".h", ".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".inl"};
constexpr std::string_view kPythonExt[] = {".py", ".pyi"};
constexpr std::string_view kJsExt[] = {".js", ".mjs", ".cjs", ".jsx"};
constexpr std::string_view kTsExt[] = {".ts", ".mts", ".cts"};
constexpr std::string_view kTsxExt[] = {".tsx"};
constexpr std::string_view kGoExt[] = {".go"};
constexpr std::string_view kRustExt[] = {".rs"};
constexpr std::string_view kJavaExt[] = {".java"};

constexpr std::string_view kCQueries[] = {"c.scm"};
constexpr std::string_view kCppQueries[] = {"c.scm", "cpp.scm"};
constexpr std::string_view kPythonQueries[] = {"python.scm"};
constexpr std::string_view kJsQueries[] = {"ecmascript.scm", "javascript.scm"};
constexpr std::string_view kTsQueries[] = {"ecmascript.scm", "typescript.scm"};
constexpr std::string_view kGoQueries[] = {"go.scm"};
constexpr std::string_view kRustQueries[] = {"rust.scm"};
constexpr std::string_view kJavaQueries[] = {"java.scm"};

const std::array kLanguages = {
    Language{"c", kCExt, tree_sitter_c, kCQueries, "::"},
    Language{"cpp", kCppExt, tree_sitter_cpp, kCppQueries, "::"},
    Language{"python", kPythonExt, tree_sitter_python, kPythonQueries, "."},
    Language{"javascript", kJsExt, tree_sitter_javascript, kJsQueries, "."},
    Language{"typescript", kTsExt, tree_sitter_typescript, kTsQueries, "."},
    Language{"tsx", kTsxExt, tree_sitter_tsx, kTsQueries, "."},
    Language{"go", kGoExt, tree_sitter_go, kGoQueries, "."},
    Language{"rust", kRustExt, tree_sitter_rust, kRustQueries, "::"},
    Language{"java", kJavaExt, tree_sitter_java, kJavaQueries, "."},
};

}  // namespace

std::span<const Language> all_languages() { return kLanguages; }

const Language* language_for_path(std::string_view path) {
  auto slash = path.rfind('/');
  auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return nullptr;
  auto ext = base.substr(dot);
  for (const Language& lang : kLanguages)
    for (auto e : lang.extensions)
      if (e == ext) return &lang;
  return nullptr;
}

std::string supported_languages() {
  std::string out;
  for (const Language& lang : kLanguages) {
    if (!out.empty()) out += ", ";
    out += std::string(lang.name) + " (";
    for (size_t i = 0; i < lang.extensions.size(); ++i)
      out += (i ? " " : "") + std::string(lang.extensions[i]);
    out += ")";
  }
  return out;
}

}  // namespace dsv4::tools::code
