// Every pinned grammar loads in the tree-sitter library we link, and every definition
// query compiles against its grammar; files are given languages by extension.
#include <catch2/catch.hpp>
#include <tree_sitter/api.h>

#include <string>

#include "tools/code/definitions.hpp"
#include "tools/code/languages.hpp"
#include "tools/code/scan.hpp"

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

TEST_CASE("json_text makes file bytes valid UTF-8 and cuts them at a character") {
  CHECK(json_text("plain") == "plain");
  CHECK(json_text("caf\xE9!") == "caf\\xe9!");  // escaped as the file tools read it back
  CHECK(json_text("ab\xC3\xA9", 3) == "ab\xE2\x80\xA6");  // é does not fit: cut before it
  CHECK(json_text(std::string(500, 'x')).size() == 200 + 3);
}
