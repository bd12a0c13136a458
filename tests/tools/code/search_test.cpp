// find_symbol and find_references on a small repository in six languages, checked
// against ctags (definitions) and ripgrep (every whole-word occurrence), and on hostile
// files: ignored, binary, huge, non-UTF-8 contents and names, broken syntax.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <string>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/registry.hpp"

using dsv4::tools::Json;

namespace {

using Place = std::pair<std::string, int>;  // (path, line)

Json call(const dsv4::test::TempDir& dir, std::string_view tool, const Json& args) {
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::ToolContext ctx{ws};
  return dsv4::tools::call_tool(*dsv4::tools::find_tool(tool), args, ctx);
}

// A repository where `evict` is defined once per language, used in code, and also
// mentioned in comments, strings and longer names that must not count.
void write_repository(const dsv4::test::TempDir& dir) {
  dsv4::test::sh("git init -q .", dir.path());
  dir.write(".gitignore", "generated/\n");
  dir.write("src/cache.hpp",
            "#pragma once\n"
            "class Cache {\n"
            " public:\n"
            "  void evict() { size_ = 0; }\n"           // 4: definition
            "  void put() { if (size_ > 9) evict(); }\n"  // 5: use
            "  int size_ = 0;\n"
            "};\n");
  dir.write("src/main.cpp",
            "#include \"cache.hpp\"\n"
            "// evict is called when the cache is full\n"  // 2: comment
            "static const char* kName = \"evict\";\n"      // 3: string
            "void evict_all(Cache& c) { c.evict(); }\n"   // 4: use (evict_all is another name)
            "int main() { Cache c; evict_all(c); }\n");
  dir.write("py/store.py",
            "def evict(items):\n"                        // 1: definition
            "    \"\"\"Removes old items; evict is idempotent.\"\"\"\n"  // 2: docstring
            "    items.clear()\n"
            "\n"
            "class Store:\n"
            "    def evict(self):\n"                    // 6: definition (method)
            "        evict(self.items)  # evict all\n"  // 7: use, then a comment
            "        return 'evict'\n");                 // 8: string
  dir.write("web/cache.ts",
            "export function evict(keys: string[]): void {\n"  // 1: definition
            "  keys.length = 0;\n"
            "}\n"
            "export const evictLater = () => setTimeout(() => evict([]), 10);\n"  // 4: use
            "const text = `evict ${1}`;\n");  // 5: template string
  dir.write("go/cache.go",
            "package cache\n"
            "\n"
            "type Cache struct{ n int }\n"
            "\n"
            "func (c *Cache) evict() { c.n = 0 }\n"     // 5: definition
            "\n"
            "func (c *Cache) Put() { c.evict() }\n");    // 7: use
  dir.write("rs/lib.rs",
            "pub struct Cache;\n"
            "impl Cache {\n"
            "    pub fn evict(&mut self) {}\n"            // 3: definition
            "    pub fn put(&mut self) { self.evict(); }\n"  // 4: use
            "}\n");
  dir.write("java/Cache.java",
            "class Cache {\n"
            "    void evict() {}\n"                       // 2: definition
            "    void put() { evict(); /* evict */ }\n"   // 3: use, then a comment
            "}\n");
  // Ignored by .gitignore: never searched.
  dir.write("generated/gen.py", "def evict():\n    evict()\n");
  // Binary with a source extension: skipped.
  dir.write("blob.c", std::string("void evict(void) {}\0\x01\x02", 22));
  // Over the size limit: skipped.
  dir.write("huge.js", "function evict() {}\n" + std::string(3 * 1024 * 1024, '\n'));
}

std::set<Place> places(const Json& list) {
  std::set<Place> out;
  for (const Json& e : list) out.insert({e["path"], e["line"].get<int>()});
  return out;
}

}  // namespace

TEST_CASE("find_symbol finds each definition ctags finds, and none that are ignored or skipped") {
  dsv4::test::TempDir dir;
  write_repository(dir);
  Json result = call(dir, "find_symbol", {{"name", "evict"}});
  REQUIRE(result["ok"] == true);

  // ctags reads every file, ignored and huge ones too; those must be the difference.
  auto ctags = dsv4::test::run({"ctags", "-R", "--output-format=json", "--fields=+n", "-f", "-", "."},
                               dir.path());
  REQUIRE(ctags.exit_code == 0);
  std::set<Place> expected;
  std::istringstream lines(ctags.out);
  for (std::string line; std::getline(lines, line);) {
    Json tag = Json::parse(line);
    if (tag["name"] != "evict") continue;
    std::string path = tag["path"];
    if (path.starts_with("./")) path.erase(0, 2);
    if (path.starts_with("generated/") || path == "huge.js" || path == "blob.c") continue;
    expected.insert({path, tag["line"].get<int>()});
  }
  const std::set<Place> by_hand = {{"src/cache.hpp", 4}, {"py/store.py", 1}, {"py/store.py", 6},
                                   {"web/cache.ts", 1},  {"go/cache.go", 5}, {"rs/lib.rs", 3},
                                   {"java/Cache.java", 2}};
  CHECK(expected == by_hand);
  CHECK(places(result["definitions"]) == by_hand);
  CHECK(result["total"] == by_hand.size());
  CHECK_THAT(result["note"].get<std::string>(),
             Catch::Contains("skipped 1 files over") && Catch::Contains("1 binary files"));
}

TEST_CASE("find_symbol narrows by qualified name and kind, and bounds its answer") {
  dsv4::test::TempDir dir;
  write_repository(dir);
  auto only = [&](const Json& args) { return places(call(dir, "find_symbol", args)["definitions"]); };
  CHECK(only({{"name", "Store.evict"}}) == std::set<Place>{{"py/store.py", 6}});
  CHECK(only({{"name", "Cache::evict"}}) ==
        std::set<Place>{{"src/cache.hpp", 4}, {"go/cache.go", 5}, {"rs/lib.rs", 3}, {"java/Cache.java", 2}});
  CHECK(only({{"name", "evict"}, {"kind", "function"}}) ==
        std::set<Place>{{"py/store.py", 1}, {"web/cache.ts", 1}});
  CHECK(only({{"name", "evict"}, {"path", "py"}}) ==
        std::set<Place>{{"py/store.py", 1}, {"py/store.py", 6}});
  CHECK(only({{"name", "evic"}}).empty());  // exact names only

  Json limited = call(dir, "find_symbol", {{"name", "evict"}, {"limit", 2}});
  CHECK(limited["definitions"].size() == 2);
  CHECK(limited["total"] == 7);
  CHECK(limited["truncated"] == true);
  CHECK_THAT(limited["note"].get<std::string>(), Catch::Contains("showing 2 of 7"));

  Json none = call(dir, "find_symbol", {{"name", "no_such_thing"}});
  CHECK(none["ok"] == true);
  CHECK_THAT(none["note"].get<std::string>(), Catch::Contains("no definition named 'no_such_thing'"));
  Json bad_kind = call(dir, "find_symbol", {{"name", "evict"}, {"kind", "lambda"}});
  CHECK(bad_kind["ok"] == false);
  Json outside = call(dir, "find_symbol", {{"name", "evict"}, {"path", "../"}});
  CHECK(outside["ok"] == false);
}

TEST_CASE("find_references lists the uses ripgrep finds, minus comments, strings and definitions") {
  dsv4::test::TempDir dir;
  write_repository(dir);
  Json result = call(dir, "find_references", {{"name", "evict"}});
  REQUIRE(result["ok"] == true);

  // Every whole-word `evict` that ripgrep sees in the searched files (it honours
  // .gitignore the same way)...
  auto rg = dsv4::test::run({"rg", "--json", "-w", "evict", "--glob", "!huge.js", "--glob", "!blob.c", "."},
                            dir.path());
  REQUIRE(rg.exit_code == 0);
  std::set<Place> words;
  std::istringstream lines(rg.out);
  for (std::string line; std::getline(lines, line);) {
    Json event = Json::parse(line);
    if (event["type"] != "match") continue;
    std::string path = event["data"]["path"]["text"];
    if (path.starts_with("./")) path.erase(0, 2);
    words.insert({path, event["data"]["line_number"].get<int>()});
  }
  // ... except those that are only in comments, strings or the definitions themselves.
  const std::set<Place> not_uses = {
      {"src/cache.hpp", 4}, {"src/main.cpp", 2}, {"src/main.cpp", 3}, {"py/store.py", 1},
      {"py/store.py", 2},   {"py/store.py", 6},  {"py/store.py", 8},  {"web/cache.ts", 1},
      {"web/cache.ts", 5},  {"go/cache.go", 5},  {"rs/lib.rs", 3},    {"java/Cache.java", 2}};
  std::set<Place> expected;
  for (const Place& p : words)
    if (!not_uses.count(p)) expected.insert(p);
  CHECK(expected == std::set<Place>{{"src/cache.hpp", 5}, {"src/main.cpp", 4}, {"py/store.py", 7},
                                    {"web/cache.ts", 4}, {"go/cache.go", 7}, {"rs/lib.rs", 4},
                                    {"java/Cache.java", 3}});
  CHECK(places(result["references"]) == expected);
  CHECK(result["total"] == expected.size());  // one use per line here, not the comment after it
  for (const Json& r : result["references"]) {
    if (r["path"] == "java/Cache.java") {
      CHECK(r["col"] == 18);
      CHECK(r["text"] == "void put() { evict(); /* evict */ }");
    }
  }
  CHECK_THAT(result["note"].get<std::string>(), Catch::Contains("1 binary files"));

  Json qualified = call(dir, "find_references", {{"name", "Cache::evict"}});
  CHECK(qualified["ok"] == false);
  CHECK_THAT(qualified["error"].get<std::string>(), Catch::Contains("not a single identifier"));
  Json limited = call(dir, "find_references", {{"name", "evict"}, {"limit", 3}});
  CHECK(limited["references"].size() == 3);
  CHECK(limited["truncated"] == true);
}

TEST_CASE("code search survives non-UTF-8 names and contents, and broken syntax") {
  dsv4::test::TempDir dir;
  dsv4::test::sh("git init -q .", dir.path());
  dir.write("caf\xE9.py", "# caf\xE9\ndef lookup(key):\n    return key\n\nlookup('\xFF')\n");
  dir.write("broken.js", "function lookup(a) {\n  return a +* ;\n}\nconst x = lookup(2);\n");
  dir.write("with space/and\nnewline.go", "package p\n\nfunc lookup() {}\n\nfunc use() { lookup() }\n");

  REQUIRE(call(dir, "outline", {{"path", "broken.js"}}).contains("note"));  // it is broken

  Json symbols = call(dir, "find_symbol", {{"name", "lookup"}});
  REQUIRE(symbols["ok"] == true);
  CHECK_NOTHROW(symbols.dump());
  std::set<int> lines;
  for (const Json& d : symbols["definitions"]) lines.insert(d["line"].get<int>());
  CHECK(symbols["total"] == 3);
  CHECK(lines == std::set<int>{1, 2, 3});
  CHECK(symbols.dump().find("caf\\\\xe9.py") != std::string::npos);

  Json refs = call(dir, "find_references", {{"name", "lookup"}});
  REQUIRE(refs["ok"] == true);
  CHECK_NOTHROW(refs.dump());
  CHECK(refs["total"] == 3);
  CHECK(places(refs["references"]).count({"with space/and\nnewline.go", 5}));
}
