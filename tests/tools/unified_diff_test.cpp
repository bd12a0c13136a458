#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/file_tools_support.hpp"
#include "tools/text_lines.hpp"
#include "tools/unified_diff.hpp"

using dsv4::test::put;
using dsv4::test::sh;
using dsv4::test::TempDir;
using dsv4::tools::unified_diff;

namespace {

std::string numbered_lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

// What `git diff --no-index` prints from the first hunk on (its header lines differ).
std::string git_hunks(const std::string& before, const std::string& after) {
  TempDir dir;
  put(dir.path(), "a", before);
  put(dir.path(), "b", after);
  auto r = dsv4::test::run(
      {"git", "-c", "diff.indentHeuristic=false", "diff", "--no-index", "--no-color", "a", "b"},
      dir.path());
  auto at = r.out.find("\n@@ ");
  if (at == std::string::npos) return "";
  // git adds the nearest "function" line after a hunk header; unified_diff does not.
  std::string out;
  for (auto line : dsv4::tools::split_lines(std::string_view(r.out).substr(at + 1))) {
    if (line.starts_with("@@ ")) line = line.substr(0, line.find(" @@") + 3);
    out.append(line);
    if (!out.ends_with('\n')) out += '\n';
  }
  return out;
}

std::string our_hunks(const std::string& before, const std::string& after) {
  auto d = unified_diff(before, after, "a/f", "b/f");
  auto at = d.find("\n@@ ");
  return at == std::string::npos ? "" : d.substr(at + 1);
}

// Applies `diff` to a file holding `before` with the real `git apply`; returns the file.
std::string git_applied(const std::string& before, const std::string& diff) {
  TempDir dir;
  put(dir.path(), "f", before);
  put(dir.path(), "change.diff", diff);
  sh("git apply change.diff", dir.path());
  return dir.read("f");
}

}  // namespace

TEST_CASE("unified_diff writes the same hunks as git diff for unambiguous changes") {
  const std::string base = numbered_lines(1, 30);
  auto with = [&](int line, const std::string& text) {
    std::string s;
    for (int i = 1; i <= 30; ++i) s += i == line ? text : "line " + std::to_string(i) + "\n";
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {base, with(15, "changed\n")},            // one line in the middle
      {base, with(1, "first\n")},               // at the start: short leading context
      {base, with(30, "last\n")},               // at the end
      {base, "new top\n" + base},               // insertion before everything
      {base, base + "new bottom\n"},            // appended
      {base, numbered_lines(1, 29)},            // last line removed
      {base, base.substr(0, base.size() - 1)},  // final newline removed
      {base.substr(0, base.size() - 1), base},  // final newline added
      {base,
       with(10, "x\n").replace(with(10, "x\n").find("line 17\n"), 8, "y\n")},  // 6 apart: one hunk
      {base,
       with(10, "x\n").replace(with(10, "x\n").find("line 18\n"), 8, "y\n")},  // 7 apart: two hunks
      {"", "only\nnew\n"},                                                     // from empty
      {"gone\n", ""},                                                          // to empty
      {"a\nb\nc\n", "a\nB\nc\nd\ne"},  // ends without newline
  };
  for (const auto& [before, after] : cases) {
    INFO("before:\n" << before << "\nafter:\n" << after);
    CHECK(our_hunks(before, after) == git_hunks(before, after));
  }
}

TEST_CASE("unified_diff writes labels and nothing for equal texts") {
  CHECK(unified_diff("same\n", "same\n", "a/x", "b/x").empty());
  CHECK(unified_diff("", "", "a/x", "b/x").empty());
  auto d = unified_diff("", "hello\n", "/dev/null", "b/new file.txt");
  CHECK(d == "--- /dev/null\n+++ b/new file.txt\t\n@@ -0,0 +1 @@\n+hello\n");
}

TEST_CASE("unified_diff names files as git does, so that git apply and patch find odd names") {
  for (const std::string name :
       {"plain.txt", "with space.txt", "new\nline.txt", "quote\"back\\slash.txt"}) {
    INFO(name);
    TempDir dir;
    put(dir.path(), name, "one\ntwo\n");
    put(dir.path(), "copy/" + name, "one\ntwo\n");
    auto diff = unified_diff("one\ntwo\n", "one\n2\n", "a/" + name, "b/" + name);
    put(dir.path(), "change.diff", diff);
    sh("git apply change.diff", dir.path());
    CHECK(dir.read(name) == "one\n2\n");
    if (name.find('\n') == std::string::npos) {  // patch(1) does not read C-quoted names
      sh("patch -s -p1 < ../change.diff", dir / "copy");
      CHECK(dir.read("copy/" + name) == "one\n2\n");
    }
  }
}

TEST_CASE("unified_diff output is applied by git apply to the exact new text") {
  // Random edits on text full of repeated lines ("}", blank) where alignment is hard.
  std::mt19937 rng(20261122);
  const std::vector<std::string> pool = {"{\n",           "}\n",         "\n",
                                         "  return x;\n", "int f() {\n", "// note\n",
                                         "\tindented\n",  "x = 1;\r\n",  "caf\xc3\xa9\n"};
  auto random_text = [&](size_t lines) {
    std::string s;
    for (size_t i = 0; i < lines; ++i) s += pool[rng() % pool.size()];
    return s;
  };
  for (int round = 0; round < 40; ++round) {
    std::string before = random_text(5 + rng() % 60);
    std::string after = before;
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      size_t pos = after.empty() ? 0 : rng() % after.size();
      pos = after.rfind('\n', pos) == std::string::npos ? 0 : after.rfind('\n', pos) + 1;
      switch (rng() % 3) {
        case 0:
          after.insert(pos, random_text(1 + rng() % 4));
          break;
        case 1:
          after.erase(pos, std::min<size_t>(after.size() - pos, after.find('\n', pos) - pos + 1));
          break;
        default:
          after.insert(pos, "edit " + std::to_string(e) + "\n");
          break;
      }
    }
    if (round % 5 == 0 && !after.empty()) after.pop_back();  // sometimes no final newline
    auto diff = unified_diff(before, after, "a/f", "b/f");
    INFO("round " << round << "\n" << diff);
    if (before == after) {
      CHECK(diff.empty());
      continue;
    }
    CHECK(git_applied(before, diff) == after);
  }
}

TEST_CASE("unified_diff stays correct on large files and beyond its edit-distance limit") {
  std::string big = numbered_lines(1, 200000);
  std::string changed = big;
  for (int line : {5, 70000, 140000, 199999}) {
    auto at = changed.find("line " + std::to_string(line) + "\n");
    changed.replace(at, 5, "LINE ");
  }
  auto diff = unified_diff(big, changed, "a/f", "b/f");
  CHECK(std::count(diff.begin(), diff.end(), '@') == 4 * 4);
  CHECK(git_applied(big, diff) == changed);

  // Two unrelated texts of 3000 lines: more than 2000 differing lines.
  std::string left, right;
  for (int i = 0; i < 3000; ++i) {
    left += "left " + std::to_string(i) + "\n";
    right += "right " + std::to_string(i) + "\n";
  }
  auto whole = unified_diff(left, right, "a/f", "b/f");
  CHECK(git_applied(left, whole) == right);
}
