// `dsv4 bench parse`: DSML parser throughput when fed token-sized chunks, against the
// same parser given the whole text at once (its peer in the same run).
#include "engine/dsml_bench.hpp"

#include <chrono>
#include <iomanip>
#include <iostream>

#include "engine/dsml_parser.hpp"

namespace dsv4::engine {
namespace {

constexpr const char* kUsage =
    "usage: dsv4 bench parse [--mb N] [--chunk BYTES]\n"
    "Builds an N-MiB synthetic completion (reasoning, content, tool-call blocks with long\n"
    "code values) and parses it with the tolerant grammar: fed in BYTES-sized chunks\n"
    "(default 4, about one token) and in 1-byte chunks, against one single-shot feed.\n"
    "Prints MB/s for each and the ratio to the single-shot peer. Defaults: --mb 8.\n";

std::string synthetic_completion(size_t bytes) {
  const std::string code =
      "for (size_t i = 0; i < n; ++i) {\n  if (a[i] < b[i] && c > 0) out << \"<tag>\" << a[i];\n}\n";
  std::string text = "Plan: read the file, then patch it. Edge cases: a < b, x > y.\n</think>";
  for (size_t round = 0; text.size() < bytes; ++round) {
    text += "Round " + std::to_string(round) + ": looking at the code — 検索 and <b>markup</b> in prose.\n";
    text += "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"write_file\">\n";
    text += "<｜DSML｜parameter name=\"path\" string=\"true\">src/file_" + std::to_string(round) + ".cpp</｜DSML｜parameter>\n";
    text += "<｜DSML｜parameter name=\"content\" string=\"true\">";
    for (int i = 0; i < 20; ++i) text += code;
    text += "</｜DSML｜parameter>\n<｜DSML｜parameter name=\"mode\" string=\"false\">{\"append\": false}</｜DSML｜parameter>\n";
    text += "</｜DSML｜invoke>\n</｜DSML｜tool_calls>\n";
  }
  return text + "<｜end▁of▁sentence｜>";
}

struct Result {
  double seconds;
  size_t calls;
};

Result parse_in_chunks(const std::string& text, size_t chunk) {
  size_t calls = 0;
  auto start = std::chrono::steady_clock::now();
  DsmlParser parser(DsmlOptions{.thinking = true, .strict = false}, [&](const DsmlEvent& e) {
    if (e.kind == DsmlEventKind::call_end && e.error.empty()) ++calls;
  });
  std::string_view view = text;
  for (size_t at = 0; at < view.size(); at += chunk) parser.feed(view.substr(at, chunk));
  parser.finish();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return {took.count(), calls};
}

// Best of three, to keep other processes' noise out of the figure.
Result best_of_three(const std::string& text, size_t chunk) {
  Result best = parse_in_chunks(text, chunk);
  for (int i = 0; i < 2; ++i) {
    Result r = parse_in_chunks(text, chunk);
    if (r.seconds < best.seconds) best = r;
  }
  return best;
}

}  // namespace

int bench_parse_command(const std::vector<std::string>& args) {
  size_t mb = 8, chunk = 4;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    bool known = (args[i] == "--mb" || args[i] == "--chunk") && i + 1 < args.size();
    size_t value = 0;
    if (known) {
      try {
        value = std::stoul(args[i + 1]);
      } catch (const std::exception&) {
      }
    }
    if (!known || value == 0) {
      std::cerr << "dsv4 bench parse: expected --mb N or --chunk BYTES with a positive number\n"
                << "(see 'dsv4 bench parse --help')\n";
      return 2;
    }
    (args[i] == "--mb" ? mb : chunk) = value;
    ++i;
  }
  std::string text = synthetic_completion(mb << 20);
  double size_mb = static_cast<double>(text.size()) / 1e6;
  Result whole = best_of_three(text, text.size());
  Result chunked = best_of_three(text, chunk);
  Result bytewise = best_of_three(text, 1);
  if (chunked.calls != whole.calls || bytewise.calls != whole.calls) {
    std::cerr << "dsv4 bench parse: chunked parsing found a different number of calls\n";
    return 1;
  }
  auto line = [&](const std::string& name, const Result& r) {
    std::cout << std::left << std::setw(22) << name << std::right << std::fixed << std::setprecision(1)
              << std::setw(9) << size_mb / r.seconds << " MB/s   ratio to single-shot "
              << std::setprecision(2) << whole.seconds / r.seconds << "\n";
  };
  std::cout << "synthetic completion: " << std::setprecision(2) << std::fixed << size_mb << " MB, "
            << whole.calls << " tool calls\n";
  line("single-shot", whole);
  line(std::to_string(chunk) + "-byte chunks", chunked);
  line("1-byte chunks", bytewise);
  return 0;
}

}  // namespace dsv4::engine
