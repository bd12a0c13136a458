// `dsv4 tokenize`, `dsv4 detokenize` and `dsv4 bench tokenize` through the real binary.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/engine/tokenizer_support.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

using Catch::Contains;
using dsv4::test::run_dsv4;
using nlohmann::json;

namespace {

const std::string kDir = dsv4::test::golden_tokenizer_dir().string();

// The first golden case that `pick` accepts.
json golden_case(const std::function<bool(const json&)>& pick) {
  std::ifstream in(std::filesystem::path(DSV4_SHARED_DIR) / "golden" / "tokenizer" / "cases.jsonl");
  for (std::string line; std::getline(in, line);) {
    json c = json::parse(line);
    if (pick(c)) return c;
  }
  throw std::runtime_error("no such golden case");
}

std::string text_of(const json& c) { return c["text"].get<std::string>(); }

}  // namespace

TEST_CASE("dsv4 tokenize prints the golden ids as one JSON array") {
  const json c = golden_case([](const json& c) { return c["id"] == "tok_special_special_inside_word"; });
  const auto r = run_dsv4({"tokenize", "--tokenizer", kDir, "--text", text_of(c)});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out == c["ids"].dump() + "\n");
  const auto bos = run_dsv4({"tokenize", "--tokenizer", kDir, "--text", "Hello", "--add-special"});
  CHECK(bos.out == "[0,19923]\n");
}

TEST_CASE("dsv4 tokenize --file reads bytes exactly, NUL and CR included, from paths with spaces") {
  const json c = golden_case([](const json& c) {
    const std::string t = c["text"];
    return t.find('\0') != std::string::npos;
  });
  dsv4::test::TempDir dir;
  dir.write("a file with spaces.txt", text_of(c));
  const auto r = run_dsv4({"tokenize", "--tokenizer", kDir, "--file", (dir / "a file with spaces.txt").string()});
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out) == c["ids"]);
  const auto missing = run_dsv4({"tokenize", "--tokenizer", kDir, "--file", (dir / "nope.txt").string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Contains("cannot read --file") && Contains("nope.txt") && Contains("No such file"));
  const auto folder = run_dsv4({"tokenize", "--tokenizer", kDir, "--file", dir.path().string()});
  CHECK(folder.exit_code == 1);
  CHECK_THAT(folder.err, Contains("is a folder, not a file"));
}

TEST_CASE("dsv4 detokenize prints the text exactly, with no newline added") {
  const json c = golden_case([](const json& c) {
    const std::string t = c["text"];
    return t.size() > 2 && t.back() == '\n' && c["category"] != "special";
  });
  const auto r = run_dsv4({"detokenize", "--tokenizer", kDir, "--ids", c["ids"].dump()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == text_of(c));
  const auto special = run_dsv4({"detokenize", "--tokenizer", kDir, "--ids", "[0, 19923, 1]", "--skip-special"});
  CHECK(special.out == "Hello");
  const auto kept = run_dsv4({"detokenize", "--tokenizer", kDir, "--ids", "[0, 19923, 1]"});
  CHECK(kept.out == "<｜begin▁of▁sentence｜>Hello<｜end▁of▁sentence｜>");
  // The byte-level token for byte 0xE4 alone: the start of a character that never ends.
  const auto byte = run_dsv4({"tokenize", "--tokenizer", kDir, "--text", "\xE4"});
  const auto lone = run_dsv4({"detokenize", "--tokenizer", kDir, "--ids", byte.out});
  CHECK(lone.out == "\xEF\xBF\xBD");
  CHECK(run_dsv4({"detokenize", "--tokenizer", kDir, "--ids", "[]"}).out.empty());
}

TEST_CASE("dsv4 tokenize and detokenize refuse bad usage with exit 2 and say what is wrong") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"tokenize", "--text", "x"}, "--tokenizer DIR is required"},
      {{"tokenize", "--tokenizer", kDir}, "exactly one of --text T and --file F"},
      {{"tokenize", "--tokenizer", kDir, "--text", "x", "--file", "y"}, "exactly one of"},
      {{"tokenize", "--tokenizer", kDir, "--text"}, "--text needs a value"},
      {{"tokenize", "--tokenizer", kDir, "--text", "x", "--frobnicate"}, "unexpected argument '--frobnicate'"},
      {{"detokenize", "--tokenizer", kDir}, "--ids JSON is required"},
      {{"detokenize", "--tokenizer", kDir, "--ids", "[1,"}, "not a JSON array"},
      {{"detokenize", "--tokenizer", kDir, "--ids", "{\"a\": 1}"}, "not a JSON array"},
      {{"detokenize", "--tokenizer", kDir, "--ids", "[1, -2]"}, "--ids[1] = -2 is not a token id"},
      {{"detokenize", "--tokenizer", kDir, "--ids", "[1.5]"}, "--ids[0] = 1.5"},
      {{"detokenize", "--tokenizer", kDir, "--ids", "[\"7\"]"}, "--ids[0] = \"7\""},
      {{"detokenize", "--tokenizer", kDir, "--ids", "[99999999999]"}, "is not a token id"},
      {{"bench", "tokenize", "--runs", "zero"}, "--runs needs a number"},
      {{"bench", "frobnicate"}, "unknown benchmark 'frobnicate'"},
  };
  for (const Case& c : cases) {
    INFO(c.args[0] << " " << c.args.back());
    const auto r = run_dsv4(c.args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(r.out.empty());
  }
  for (const char* command : {"tokenize", "detokenize"}) {
    const auto help = run_dsv4({command, "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Contains(std::string("usage: dsv4 ") + command));
  }
}

TEST_CASE("dsv4 tokenize fails with exit 1 naming the file when the tokenizer folder is unusable") {
  dsv4::test::TempDir dir;
  auto r = run_dsv4({"tokenize", "--tokenizer", dir.path().string(), "--text", "x"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains((dir / "tokenizer.json").string()) && Contains("cannot be read"));
  dir.write("tokenizer.json", "[1, 2, 3]");
  r = run_dsv4({"detokenize", "--tokenizer", dir.path().string(), "--ids", "[1]"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("is not a JSON object"));
}

TEST_CASE("dsv4 bench tokenize runs both tokenizers on a corpus and finds the same ids") {
  // A functional check of the benchmark (its speeds are not asserted here).
  const auto r = run_dsv4({"bench", "tokenize", "--mb", "0.3", "--runs", "2"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("MB/s") && Contains("ratio") && Contains("ids       : identical"));
}
