// search_text's engine against ripgrep on the same hostile trees: every case compares
// the (path, line, column) of each matching line with `rg --line-number --column`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <tuple>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/walk_support.hpp"
#include "tools/regex.hpp"
#include "tools/registry.hpp"
#include "tools/text_search.hpp"

namespace {

namespace fs = std::filesystem;
using dsv4::test::TempDir;
using dsv4::tools::Json;
using Hit = std::tuple<std::string, uint64_t, uint64_t>;  // path, line, column

std::set<Hit> rg_hits(const fs::path& root, const std::string& pattern,
                      const std::string& flags = "") {
  auto r = dsv4::test::run({"bash", "-c",
                            "rg --no-config --line-number --column --no-heading --null "
                            "--color never " + flags + " -e \"$0\" </dev/null",
                            pattern},
                           root);
  if (r.exit_code > 1) throw std::runtime_error("rg failed: " + r.err);
  std::set<Hit> hits;
  std::string_view out = r.out;
  while (!out.empty()) {
    auto nl = out.find('\n');
    auto first_line = out.substr(0, nl);
    if (first_line.find('\0') == std::string_view::npos &&
        first_line.find(": WARNING: stopped searching binary file") != std::string_view::npos) {
      out.remove_prefix(nl + 1);  // rg's note about a binary file, on stdout
      continue;
    }
    auto nul = out.find('\0');
    std::string path(out.substr(0, nul));
    out.remove_prefix(nul + 1);
    auto c1 = out.find(':'), c2 = out.find(':', c1 + 1);
    uint64_t line = std::stoull(std::string(out.substr(0, c1)));
    uint64_t col = std::stoull(std::string(out.substr(c1 + 1, c2 - c1 - 1)));
    hits.emplace(std::move(path), line, col);
    nl = out.find('\n');
    out.remove_prefix(nl == std::string_view::npos ? out.size() : nl + 1);
  }
  return hits;
}

// The hits only one side has, for the failure message.
std::string differences(const std::set<Hit>& ours, const std::set<Hit>& rg) {
  std::string out;
  for (auto& [side, a, b] : {std::tuple{"only ours: ", &ours, &rg}, std::tuple{"only rg: ", &rg, &ours}})
    for (auto& [path, line, col] : *a)
      if (!b->count({path, line, col}))
        out += std::string(side) + path + ":" + std::to_string(line) + ":" + std::to_string(col) + "\n";
  return out;
}

std::set<Hit> our_hits(const fs::path& root, const std::string& pattern, bool icase = false,
                       unsigned threads = 0) {
  dsv4::sandbox::Workspace ws(root);
  dsv4::tools::TextSearch request;
  request.pattern = pattern;
  request.ignore_case = icase;
  request.threads = threads;
  std::set<Hit> hits;
  for (auto& m : dsv4::tools::search_tree(ws, request).matches)
    hits.emplace(m.path, m.line, m.column);
  return hits;
}

// A tree with every kind of trouble a workspace can hold; `huge` adds a 12 MiB file.
void make_hostile_tree(const TempDir& dir, bool huge = false) {
  dsv4::test::sh("git init -q .", dir.path());
  dsv4::test::make_tree(dir.path(), {"loop -> .", "self -> self", "out -> /etc",
                                     "src/up -> ..", "link.c -> src/main.c"});
  dir.write(".gitignore", "*.log\nbuild/\n!keep.log\n");
  dir.write("src/.gitignore", "generated.c\n");
  dir.write("src/main.c",
            "int main(void) {\n  return foo(1);\n}\n// TODO: foo bar\nstatic int Foo;\n");
  dir.write("src/generated.c", "int foo;\n");
  dir.write("src/util.h", "#define FOO_MAX 10\n#define BAR_MAX 20\nint foo(int);\n");
  dir.write("app.log", "foo in a log\n");
  dir.write("keep.log", "foo kept\n");
  dir.write("build/out.c", "foo built\n");
  dir.write(".hidden/x.c", "foo hidden\n");
  dir.write(".env", "foo=1\n");
  dir.write("bin/early.bin", std::string("foo\n\0foo\n", 9));
  std::string late = "foo first\n";
  while (late.size() < 200000) late += "filler line without the word\n";
  late += std::string("\0foo after nul\n", 15);
  dir.write("bin/late.bin", late);
  dir.write("text/latin1.txt", "caf\xE9 foo\nna\xEFve\nplain foo\n");
  dir.write("text/unicode.txt", "übergröße foo\nÜBER\nstraße\nΣίσυφος foo\n日本語 foo\n");
  dir.write("text/crlf.txt", "foo\r\nbar\r\n\r\nfoo bar\r\n");
  dir.write("text/no_newline.txt", "last foo");
  dir.write("text/empty.txt", "");
  dir.write("text/blank_lines.txt", "\n\n\nfoo\n\n");
  dir.write("name with spaces.txt", "foo spaced\n");
  dir.write("new\nline.txt", "foo newline\n");
  dir.write("caf\xE9.txt", "foo latin1 name\n");
  std::string long_line(300000, 'x');
  long_line.replace(150000, 3, "foo");
  dir.write("text/long_line.txt", "short foo\n" + long_line + "\n");
  if (!huge) return;
  std::string big;
  big.reserve(12 << 20);
  for (int i = 0; big.size() < (12u << 20); ++i)
    big += (i % 100000 == 99999 ? "needle foo " : "haystack line ") + std::to_string(i) + "\n";
  dir.write("huge/big.txt", big);
}

}  // namespace

TEST_CASE("matching lines equal ripgrep's on a hostile tree") {
  TempDir dir;
  make_hostile_tree(dir);
  const char* patterns[] = {
      "foo",          "\\bfoo\\b",      "^foo",           "foo$",         "^$",
      "\\w+_MAX\\b",  "[A-Z]\\w+",      "caf.",           "\\w+ße",       "ber",
      "o\\s+b",       "x*",             "[[:upper:]]+",   "foo|bar",      "needle \\w+ \\d+",
      "(f)(o)+",      "r\\r$",          "\\s$",           "Σ",            "日本",
      "[^\\x00-\\x7F]+", "a.*e",        "(?:foo){1}",     "ø?foo",
      "FOO_MAX|needle", "ber|ße|Σί",    "a|x",            "\\w+_(MAX|MIN)|x\\d",
  };
  for (const char* p : patterns) {
    INFO("pattern " << p);
    auto rg = rg_hits(dir.path(), p);
    auto ours = our_hits(dir.path(), p);
    INFO(differences(ours, rg));
    CHECK(ours == rg);
    if (std::string_view(p) == "foo") CHECK(rg.size() > 10);  // the reference saw the tree
  }
  for (const char* p : {"foo", "ÜBER", "STRASSE", "σίσυφος", "[a-z]+_max"}) {
    INFO("pattern -i " << p);
    auto rg = rg_hits(dir.path(), p, "-i");
    auto ours = our_hits(dir.path(), p, true);
    INFO(differences(ours, rg));
    CHECK(ours == rg);
  }
  CHECK(our_hits(dir.path(), "foo", false, 1) == rg_hits(dir.path(), "foo"));
}

TEST_CASE("binary files: skipped when the NUL is early, searched up to it like rg when late") {
  TempDir dir;
  make_hostile_tree(dir);
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::TextSearch request;
  request.pattern = "foo";
  request.path = "bin";
  auto found = dsv4::tools::search_tree(ws, request);
  REQUIRE(found.matches.size() == 1);
  CHECK(found.matches[0].path == "bin/late.bin");
  CHECK(found.matches[0].line == 1);
  CHECK(found.binary_files == 2);
  CHECK(rg_hits(dir.path(), "foo", "bin").size() == 1);
}

TEST_CASE("long lines are cut around the match; huge files are searched to the end") {
  TempDir dir;
  make_hostile_tree(dir, true);
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::TextSearch request;
  request.pattern = "foo";
  request.path = "text/long_line.txt";
  auto found = dsv4::tools::search_tree(ws, request);
  REQUIRE(found.matches.size() == 2);
  const auto& cut = found.matches[1];
  CHECK(cut.column == 150001);
  CHECK(cut.text.size() < 500);
  CHECK_THAT(cut.text, Catch::Contains("foo") && Catch::Contains("300000 bytes cut"));
  request.path = "huge";
  request.pattern = "needle";
  found = dsv4::tools::search_tree(ws, request);
  CHECK(found.matches.size() == rg_hits(dir.path(), "needle", "huge").size());
  REQUIRE(found.matches.size() > 5);
  CHECK(found.matches.back().text.starts_with("needle foo "));
  for (const char* p : {"needle \\w+ \\d+", "99999\\d$|^needle", "foo"})
    CHECK(our_hits(dir.path(), p) == rg_hits(dir.path(), p));
}

TEST_CASE("context lines come from the file around each match") {
  TempDir dir;
  dir.write("a.txt", "one\ntwo\nthree foo\nfour\nfive\n");
  dir.write("b.txt", "foo first\nsecond\n");
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::TextSearch request;
  request.pattern = "foo";
  request.context = 2;
  auto found = dsv4::tools::search_tree(ws, request);
  REQUIRE(found.matches.size() == 2);
  CHECK(found.matches[0].before == std::vector<std::string>{"one", "two"});
  CHECK(found.matches[0].after == std::vector<std::string>{"four", "five"});
  CHECK(found.matches[1].before.empty());
  CHECK(found.matches[1].after == std::vector<std::string>{"second"});
}

TEST_CASE("bad patterns are refused with the position and the problem") {
  using dsv4::tools::Regex;
  using dsv4::tools::RegexError;
  CHECK_THROWS_WITH(Regex("foo(bar", false),
                    Catch::Contains("position 7") && Catch::Contains("missing closing parenthesis"));
  CHECK_THROWS_WITH(Regex("a[b", false), Catch::Contains("position 3"));
  CHECK_THROWS_WITH(Regex("x{2,1}", false), Catch::Contains("position"));
  CHECK_THROWS_WITH(Regex("foo\\nbar", false), Catch::Contains("line break at position 3"));
  CHECK_THROWS_AS(Regex("\xFF", false), RegexError);
  CHECK_NOTHROW(Regex("foo\\\\nbar", false));  // an escaped backslash, then 'n'
}

TEST_CASE("catastrophic backtracking ends with an error instead of hanging") {
  TempDir dir;
  dir.write("a.txt", std::string(40, 'a') + "!\n");
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::TextSearch request;
  request.pattern = "(a+)+(b|c)";
  CHECK_THROWS_WITH(dsv4::tools::search_tree(ws, request),
                    Catch::Contains("simplify the pattern"));
  request.pattern = "(a+)+!";  // the same shape that can match is fine
  CHECK(dsv4::tools::search_tree(ws, request).matches.size() == 1);
}

TEST_CASE("the search_text tool: bounded, valid JSON, clear errors") {
  TempDir dir;
  make_hostile_tree(dir);
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::ToolContext ctx{ws};
  const auto& tool = *dsv4::tools::find_tool("search_text");

  auto r = dsv4::tools::call_tool(tool, {{"pattern", "foo"}, {"max_results", 3}}, ctx);
  CHECK(r["ok"] == true);
  CHECK(r["matches"].size() == 3);
  CHECK(r["truncated"] == true);
  CHECK_THAT(r["note"].get<std::string>(), Catch::Contains("narrow"));

  r = dsv4::tools::call_tool(tool, {{"pattern", "latin1 name"}}, ctx);
  REQUIRE(r["matches"].size() == 1);
  CHECK(r["matches"][0]["path"] == "caf\\xe9.txt");  // escaped as the file tools read it back
  CHECK(r["truncated"] == false);

  r = dsv4::tools::call_tool(tool, {{"pattern", "caf"}, {"path", "text"}}, ctx);
  REQUIRE(r["matches"].size() == 1);
  CHECK(r["matches"][0]["text"] == "caf\\xe9 foo");
  CHECK(r.dump().size() > 0);  // serializable

  r = dsv4::tools::call_tool(tool, {{"pattern", "foo"}, {"glob", "*.{h,log}"}}, ctx);
  std::set<std::string> paths;
  for (auto& m : r["matches"]) paths.insert(m["path"]);
  CHECK(paths == std::set<std::string>{"keep.log", "src/util.h"});

  r = dsv4::tools::call_tool(tool, {{"pattern", "nothing-matches-this"}}, ctx);
  CHECK(r["matches"].empty());
  CHECK_THAT(r["note"].get<std::string>(), Catch::Contains("files searched"));

  r = dsv4::tools::call_tool(tool, {{"pattern", "foo("}}, ctx);
  CHECK(r["ok"] == false);
  CHECK_THAT(r["error"].get<std::string>(), Catch::Contains("position 4"));
  r = dsv4::tools::call_tool(tool, {{"pattern", "foo"}, {"path", "../etc"}}, ctx);
  CHECK(r["ok"] == false);
  r = dsv4::tools::call_tool(tool, {{"pattern", "foo"}, {"path", "missing"}}, ctx);
  CHECK(r["ok"] == false);
  CHECK_THAT(r["error"].get<std::string>(), Catch::Contains("does not exist"));
  r = dsv4::tools::call_tool(tool, {{"pattern", "foo"}, {"glob", "{a,b"}}, ctx);
  CHECK_THAT(r["error"].get<std::string>(), Catch::Contains("unbalanced '{'"));
  // An explicitly named file is searched even when ignored, as with rg.
  r = dsv4::tools::call_tool(tool, {{"pattern", "foo"}, {"path", "app.log"}}, ctx);
  CHECK(r["matches"].size() == 1);
}

TEST_CASE("dsv4 tool search_text and dsv4 bench search run from the command line") {
  TempDir dir;
  make_hostile_tree(dir);
  auto r = dsv4::test::run_dsv4({"tool", "search_text", "--root", dir.path().string(), "--args",
                                 R"({"pattern": "FOO_MAX", "path": "src"})"});
  CHECK(r.exit_code == 0);
  auto j = Json::parse(r.out);
  REQUIRE(j["matches"].size() == 1);
  CHECK(j["matches"][0] == Json{{"path", "src/util.h"}, {"line", 1}, {"col", 9},
                                {"text", "#define FOO_MAX 10"}});
  auto bench = dsv4::test::run_dsv4({"bench", "search", dir.path().string(), "\\bfoo\\b", "--runs", "1"});
  CHECK(bench.exit_code == 0);
  CHECK_THAT(bench.out, Catch::Contains("identical") && Catch::Contains("ratio dsv4/rg"));
  auto bad = dsv4::test::run_dsv4({"bench", "search", dir.path().string()});
  CHECK(bad.exit_code == 2);
  CHECK(dsv4::test::run_dsv4({"bench", "nonsense"}).exit_code == 2);
}

TEST_CASE("a stop request ends the search early and says so") {
  TempDir dir;
  for (int i = 0; i < 50; ++i) dir.write("f" + std::to_string(i) + ".txt", "foo\n");
  dsv4::sandbox::Workspace ws(dir.path());
  dsv4::tools::TextSearch request;
  request.pattern = "foo";
  CHECK(dsv4::tools::search_tree(ws, request).matches.size() == 50);
  std::stop_source source;
  source.request_stop();
  request.stop = source.get_token();
  auto found = dsv4::tools::search_tree(ws, request);
  CHECK(found.truncated);
  CHECK(found.matches.empty());
}
