// outline compared with universal-ctags on realistic files of every language, plus
// hostile input: syntax errors, binary and non-UTF-8 files, huge files, bad paths.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/registry.hpp"

namespace fs = std::filesystem;
using dsv4::tools::Json;

namespace {

const fs::path kFixtures = fs::path(DSV4_SOURCE_DIR) / "tests/tools/fixtures/code";

Json outline(const fs::path& root, const std::string& path) {
  dsv4::sandbox::Workspace ws(root);
  dsv4::tools::ToolContext ctx{ws};
  return dsv4::tools::call_tool(*dsv4::tools::find_tool("outline"), Json{{"path", path}}, ctx);
}

using Tag = std::pair<std::string, int>;  // (name, line)

// ctags' tags of `file` as (name, line) -> ctags kind. Operator names lose their spaces
// ("operator ()" in ctags is "operator()" in the source).
std::map<Tag, std::string> ctags_tags(const fs::path& dir, const std::string& file) {
  std::vector<std::string> argv = {"ctags", "--output-format=json", "--fields=+nKse", "-f", "-"};
  // ctags 5.9 maps no extension to TSX; its TypeScript parser reads the fixture fine.
  if (file.ends_with(".tsx")) argv.push_back("--language-force=TypeScript");
  argv.push_back(file);
  auto result = dsv4::test::run(argv, dir);
  REQUIRE(result.exit_code == 0);
  std::map<Tag, std::string> tags;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    Json tag = Json::parse(line);
    std::string name = tag["name"];
    std::erase(name, ' ');
    tags[{name, tag["line"].get<int>()}] = tag["kind"];
  }
  REQUIRE(!tags.empty());
  return tags;
}

// Our kinds that agree with each ctags kind (ctags' names differ by language).
const std::map<std::string, std::set<std::string>> kAgreeingKinds = {
    {"macro", {"macro"}},
    {"enumerator", {"enum_member"}},
    {"enumConstant", {"enum_member"}},
    {"member", {"field", "method"}},  // C/C++/Go fields, Python methods
    {"field", {"field"}},
    {"property", {"field"}},
    {"typedef", {"type"}},
    {"alias", {"type"}},
    {"type", {"type"}},
    {"struct", {"struct"}},
    {"union", {"union"}},
    {"enum", {"enum"}},
    {"class", {"class"}},
    {"interface", {"interface", "trait"}},
    {"annotation", {"interface"}},
    {"implementation", {"impl"}},
    {"namespace", {"namespace"}},
    {"module", {"module"}},
    {"package", {"package"}},
    {"function", {"function", "method"}},
    {"func", {"function", "method"}},
    {"method", {"method", "constructor"}},
    {"methodSpec", {"method"}},
    {"getter", {"method"}},
    {"setter", {"method"}},
    {"generator", {"function", "method"}},
    {"variable", {"variable", "field", "function"}},  // Python `f = lambda`: function
    {"var", {"variable"}},
    {"constant", {"constant", "function"}},  // JavaScript `const f = () => ...`: function
    {"const", {"constant"}},
};

struct Known {
  Tag tag;
  const char* why;
};

struct Case {
  std::string file;
  std::vector<Known> ctags_only;  // ctags reports them, outline does not
  std::vector<Known> ours_only;  // outline reports them, ctags does not
  std::vector<Known> other_kind;  // both report them, with kinds that do not agree
};

const std::vector<Case> kCases = {
    {"ring_buffer.c", {}, {}, {}},
    {"ring_buffer.h", {}, {}, {}},
    {"lru_cache.hpp", {}, {}, {}},
    {"shapes.cpp",
     {{{"__anon7f3c2e1a0111", 14}, "ctags names the anonymous namespace; it has no name"},
      {{"__anon7f3c2e1a0202", 42}, "ctags names a lambda inside main; it is a local"}},
     {},
     {}},
    {"inventory.py",
     {},
     {{{"sku", 23}, "ctags 5.9 skips a class attribute that is annotated but not assigned"}},
     {}},
    {"event_bus.js",
     {{{"listeners", 10}, "ctags drops the # of the private field #listeners"}},
     {{{"#listeners", 10}, "the private field keeps its # as in the source"}},
     {{{"defaults", 61}, "ctags calls an object literal bound to a const a class"}}},
    {"store.ts",
     {{{"kind", 57}, "ctags 5.9 reports a local const inside method set()"}},
     {{{"subscribe", 35}, "ctags 5.9 misses a method after an abstract method"},
      {{"constructor", 48}, "ctags 5.9 misses the methods of a class after a generic field"},
      {{"get", 52}, "as above"},
      {{"set", 56}, "as above"},
      {{"snapshot", 64}, "as above"}},
     {}},
    {"widget.tsx",
     {{{"open", 9}, "ctags reports locals destructured from useState()"},
      {{"setOpen", 9}, "as above"}},
     {{{"render", 20}, "ctags 5.9 has no TSX parser and misses the method after JSX"}},
     {}},
    {"ratelimit.go", {}, {}, {}},
    {"config.rs",
     {{{"str", 28}, "ctags 5.9 takes the type of `const NAME: &'static str` for the name"},
      {{"str", 66}, "as above"}},
     {{{"NAME", 28}, "the associated constant ctags misnamed"},
      {{"NAME", 66}, "as above"},
      {{"DEFAULT_PORT", 5}, "ctags 5.9 misses `pub const` items"},
      {{"MAX_CONNECTIONS", 88}, "as above"},
      {{"Bits", 92}, "ctags 5.9 does not know Rust unions"},
      {{"word", 93}, "as above"},
      {{"bytes", 94}, "as above"},
      {{"code", 15}, "ctags 5.9 skips fields of struct-like enum variants"}},
     {}},
    {"TaskQueue.java",
     {},
     {{{"Snapshot", 86}, "ctags 5.9 does not know records' compact constructors"}},
     {{{"Snapshot", 85}, "ctags 5.9 reads the record Snapshot as a method"}}},
};

void compare_with_ctags(const fs::path& root, const Case& c) {
  INFO("file: " << c.file);
  auto ctags = ctags_tags(root, c.file);
  Json result = outline(root, c.file);
  REQUIRE(result["ok"] == true);
  std::map<Tag, std::string> ours;
  for (const Json& d : result["definitions"])
    ours[{d["name"].get<std::string>(), d["line"].get<int>()}] = d["kind"];

  std::set<Tag> expected;
  for (const auto& [tag, kind] : ctags) expected.insert(tag);
  for (const Known& k : c.ctags_only) CHECK(expected.erase(k.tag) == 1);
  for (const Known& k : c.ours_only) CHECK(expected.insert(k.tag).second);
  std::set<Tag> got;
  for (const auto& [tag, kind] : ours) got.insert(tag);
  CHECK(got == expected);

  std::set<Tag> other_kind;
  for (const Known& k : c.other_kind) other_kind.insert(k.tag);
  for (const auto& [tag, ctags_kind] : ctags) {
    auto it = ours.find(tag);
    if (it == ours.end() || other_kind.count(tag)) continue;
    INFO(tag.first << " line " << tag.second << ": ctags " << ctags_kind << ", ours " << it->second);
    REQUIRE(kAgreeingKinds.count(ctags_kind));
    CHECK(kAgreeingKinds.at(ctags_kind).count(it->second));
  }
}

const Json* find_definition(const Json& result, std::string_view name, int line) {
  for (const Json& d : result["definitions"])
    if (d["name"] == name && d["line"] == line) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("outline finds the definitions ctags finds, in every language") {
  for (const Case& c : kCases) compare_with_ctags(kFixtures, c);
}

TEST_CASE("outline agrees with ctags on this repository's own sources") {
  // ctags splits `namespace dsv4::tools` into one tag per name, all on that line;
  // outline reports the last name with the rest as its scope.
  for (std::string file : {"tools/registry.cpp", "sandbox/workspace.hpp"}) {
    auto ctags = ctags_tags(DSV4_SOURCE_DIR, file);
    Json result = outline(DSV4_SOURCE_DIR, file);
    REQUIRE(result["ok"] == true);
    std::set<Tag> expected, got;
    for (const auto& [tag, kind] : ctags)
      if (!tag.first.starts_with("__anon") && tag.first != "dsv4") expected.insert(tag);
    for (const Json& d : result["definitions"]) got.insert({d["name"], d["line"].get<int>()});
    INFO(file);
    CHECK(got == expected);
  }
}

TEST_CASE("outline nests definitions and qualifies their scope") {
  Json cpp = outline(kFixtures, "lru_cache.hpp");
  const Json* get = find_definition(cpp, "get", 39);
  REQUIRE(get);
  CHECK((*get)["kind"] == "method");
  CHECK((*get)["scope"] == "util::LruCache");
  CHECK((*get)["depth"] == 2);
  CHECK((*get)["end_line"] == 44);
  CHECK((*get)["signature"] == "std::optional<Value> get(const Key& key) {");
  // Defined outside its class: the qualifier joins the enclosing namespace.
  const Json* evict = find_definition(cpp, "evict", 71);
  REQUIRE(evict);
  CHECK((*evict)["scope"] == "util::LruCache");

  Json py = outline(kFixtures, "inventory.py");
  const Json* line_for = find_definition(py, "line_for", 68);
  REQUIRE(line_for);
  CHECK((*line_for)["scope"] == "Inventory.Report.render");
  CHECK((*line_for)["kind"] == "function");
  const Json* render = find_definition(py, "render", 67);
  REQUIRE(render);
  CHECK((*render)["kind"] == "method");
  // Locals are not definitions.
  CHECK_FALSE(find_definition(py, "counter", 81));

  Json go = outline(kFixtures, "ratelimit.go");
  const Json* allow = find_definition(go, "Allow", 71);
  REQUIRE(allow);
  CHECK((*allow)["kind"] == "method");
  CHECK((*allow)["scope"] == "Bucket");

  Json rust = outline(kFixtures, "config.rs");
  const Json* from_env = find_definition(rust, "from_env", 55);
  REQUIRE(from_env);
  CHECK((*from_env)["scope"] == "Config");
  CHECK((*from_env)["kind"] == "method");
}

TEST_CASE("outline still outlines a file with syntax errors, and says so") {
  dsv4::test::TempDir dir;
  dir.write("broken.py",
            "def good_before():\n    return 1\n\n"
            "def broken(:\n    return 2\n\n"
            "class Fine:\n    def method(self):\n        pass\n");
  dir.write("unclosed.py", "def good_before():\n    return 1\n\ndef f():\n    return (\n\nclass Lost:\n    pass\n");
  dir.write("broken.c", "int first(void) { return 1; }\nint second( { \nint third(void) { return 3; }\n");
  Json py = outline(dir.path(), "broken.py");
  REQUIRE(py["ok"] == true);
  CHECK(find_definition(py, "good_before", 1));
  CHECK(find_definition(py, "broken", 4));
  CHECK(find_definition(py, "method", 8));
  CHECK_THAT(py["note"].get<std::string>(), Catch::Contains("syntax errors (near line 4)"));
  // An unclosed bracket swallows what follows; what precedes it is still there.
  Json unclosed = outline(dir.path(), "unclosed.py");
  REQUIRE(unclosed["ok"] == true);
  CHECK(find_definition(unclosed, "good_before", 1));
  CHECK(unclosed.contains("note"));
  Json c = outline(dir.path(), "broken.c");
  REQUIRE(c["ok"] == true);
  CHECK(find_definition(c, "first", 1));
  CHECK_THAT(c["note"].get<std::string>(), Catch::Contains("syntax errors (near line 2"));
  // A clean file has no note.
  CHECK_FALSE(outline(kFixtures, "ring_buffer.c").contains("note"));
}

TEST_CASE("outline refuses what it cannot read, saying what to do") {
  dsv4::test::TempDir dir;
  dir.write("notes.txt", "just text\n");
  dir.write("blob.c", std::string("int x;\0\x01\x02 binary", 18));
  dir.write("folder.py/inner.py", "x = 1\n");
  dir.write("huge.js", std::string(3 * 1024 * 1024, ' '));

  Json unsupported = outline(dir.path(), "notes.txt");
  CHECK(unsupported["ok"] == false);
  CHECK_THAT(unsupported["error"].get<std::string>(),
             Catch::Contains("not in a supported language") && Catch::Contains("python (.py") &&
                 Catch::Contains("rust (.rs)") && Catch::Contains(".tsx"));
  Json binary = outline(dir.path(), "blob.c");
  CHECK(binary["ok"] == false);
  CHECK_THAT(binary["error"].get<std::string>(), Catch::Contains("NUL bytes"));
  Json folder = outline(dir.path(), "folder.py");
  CHECK(folder["ok"] == false);
  CHECK_THAT(folder["error"].get<std::string>(), Catch::Contains("is a folder"));
  Json missing = outline(dir.path(), "missing.go");
  CHECK(missing["ok"] == false);
  CHECK_THAT(missing["error"].get<std::string>(), Catch::Contains("does not exist"));
  Json huge = outline(dir.path(), "huge.js");
  CHECK(huge["ok"] == false);
  CHECK_THAT(huge["error"].get<std::string>(), Catch::Contains("is over"));
  Json outside = outline(dir.path(), "../outside.c");
  CHECK(outside["ok"] == false);
  CHECK_THAT(outside["error"].get<std::string>(), Catch::Contains("sandbox"));
}

TEST_CASE("outline returns valid UTF-8 for files that are not") {
  dsv4::test::TempDir dir;
  // Latin-1 bytes in a comment, a string and an identifier-like position.
  dir.write("latin1.py", "# caf\xE9\ndef na\xEFve(x):\n    return '\xE9t\xE9'\n\ndef after():\n    pass\n");
  Json result = outline(dir.path(), "latin1.py");
  REQUIRE(result["ok"] == true);
  CHECK_NOTHROW(result.dump());  // throws on invalid UTF-8
  CHECK(find_definition(result, "after", 5));
  CHECK(result.dump().find("na\\\\xefve") != std::string::npos);  // escaped, as read_file shows it
}

TEST_CASE("outline handles a large generated file and bounds its answer") {
  dsv4::test::TempDir dir;
  std::string source;
  const int kFunctions = 5000;
  for (int i = 0; i < kFunctions; ++i)
    source += "int function_" + std::to_string(i) + "(int x) { return x + " + std::to_string(i) + "; }\n";
  dir.write("generated.c", source);
  Json result = outline(dir.path(), "generated.c");
  REQUIRE(result["ok"] == true);
  CHECK(result["truncated"] == true);
  // The tool cuts its own list, within the registry's cap, and says how far it got.
  auto& defs = result["definitions"];
  size_t shown = defs.size();
  CHECK(shown >= 300);
  CHECK(shown <= 1000);
  CHECK_THAT(result["note"].get<std::string>(),
             Catch::Contains("only the first " + std::to_string(shown) + " of 5000 definitions"));
  CHECK(defs[shown - 1]["name"] == "function_" + std::to_string(shown - 1));
  CHECK(defs[shown - 1]["line"] == static_cast<int>(shown));
  CHECK(result.dump().size() < dsv4::tools::kMaxResultBytes);
}

TEST_CASE("outline bounds the signatures of minified code") {
  dsv4::test::TempDir dir;
  std::string line;
  for (int i = 0; i < 2000; ++i) line += "function f" + std::to_string(i) + "(a){return a+" + std::to_string(i) + "}";
  dir.write("bundle.min.js", line + "\n");
  Json result = outline(dir.path(), "bundle.min.js");
  REQUIRE(result["ok"] == true);
  auto& defs = result["definitions"];
  REQUIRE(defs.size() >= 100);
  CHECK(defs[0]["signature"].get<std::string>().size() == 200 + 3);  // 200 bytes and "…"
  CHECK(defs[99]["name"] == "f99");
  CHECK(defs[99]["line"] == 1);
  CHECK(result["truncated"] == true);
  CHECK(result.dump().size() < dsv4::tools::kMaxResultBytes);
}

TEST_CASE("dsv4 tool outline runs from the command line as the README shows") {
  auto run = dsv4::test::run_dsv4({"tool", "outline", "--args", R"({"path": "tools/registry.cpp"})"},
                                  DSV4_SOURCE_DIR);
  CHECK(run.exit_code == 0);
  Json result = Json::parse(run.out);
  bool found = false;
  for (const Json& d : result["definitions"]) found |= d["name"] == "call_tool" && d["kind"] == "function";
  CHECK(found);
}
