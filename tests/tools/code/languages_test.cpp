// Every pinned grammar loads in the tree-sitter library we link, and every definition
// query compiles against its grammar; files are given languages by extension.
#include <catch2/catch.hpp>
#include <tree_sitter/api.h>

#include <string>

#include "tools/code/definitions.hpp"
#include "tools/code/languages.hpp"

using namespace dsv4::tools::code;

TEST_CASE("every grammar has an ABI this tree-sitter loads, and every query compiles") {
  REQUIRE(all_languages().size() == 9);
  for (const Language& lang : all_languages()) {
    INFO(lang.name);
    uint32_t abi = ts_language_version(lang.grammar());
    CHECK(abi >= TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION);
    CHECK(abi <= TREE_SITTER_LANGUAGE_VERSION);
    // Compiles the query on first use; a bad node type or field in a .scm file throws.
    CHECK_NOTHROW(outline(lang, ""));
  }
}

TEST_CASE("a file's language comes from its extension") {
  auto name = [](std::string_view path) -> std::string {
    const Language* lang = language_for_path(path);
    return lang ? std::string(lang->name) : "none";
  };
  CHECK(name("src/a.c") == "c");
  CHECK(name("include/a.h") == "cpp");  // as in ctags: the C++ grammar reads C headers too
  CHECK(name("a.cc") == "cpp");
  CHECK(name("a.hpp") == "cpp");
  CHECK(name("a.py") == "python");
  CHECK(name("a.mjs") == "javascript");
  CHECK(name("a.jsx") == "javascript");
  CHECK(name("a.ts") == "typescript");
  CHECK(name("a.tsx") == "tsx");
  CHECK(name("a.go") == "go");
  CHECK(name("a.rs") == "rust");
  CHECK(name("A.java") == "java");
  CHECK(name("Makefile") == "none");
  CHECK(name(".py") == "none");  // a hidden file named .py, not a Python file
  CHECK(name("dir.py/README") == "none");
  CHECK(name("a.PY") == "none");
  CHECK(name("notes.txt") == "none");
  auto supported = supported_languages();
  for (const Language& lang : all_languages())
    for (auto ext : lang.extensions) CHECK_THAT(supported, Catch::Contains(std::string(ext)));
}

TEST_CASE("clean_text keeps valid UTF-8, replaces the rest and cuts at a character") {
  CHECK(clean_text("plain", 100) == "plain");
  CHECK(clean_text("caf\xC3\xA9", 100) == "caf\xC3\xA9");
  CHECK(clean_text("caf\xE9!", 100) == "caf\xEF\xBF\xBD!");
  CHECK(clean_text("\xC0\xAF", 100) == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(clean_text("\xED\xA0\x80", 100) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(clean_text("\xF0\x9F\x98\x80", 100) == "\xF0\x9F\x98\x80");
  CHECK(clean_text("\xF0\x9F\x98", 100) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
  // Cut before a 2-byte character that would not fit, with an ellipsis.
  CHECK(clean_text("ab\xC3\xA9", 3) == "ab\xE2\x80\xA6");
}
