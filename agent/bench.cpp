#include "agent/bench.hpp"

#include <iostream>
#include <string_view>

#include "agent/bench_agent.hpp"
#include "engine/dsml_bench.hpp"
#include "engine/model_cli.hpp"
#include "engine/tokenizer_cli.hpp"
#include "tools/bench_search.hpp"

namespace dsv4::agent {
namespace {

struct Bench {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>&);
};

// One line per benchmark.
const Bench kBenches[] = {
    {"agent", "[--steps N] [--runs N]                   loop overhead per step, start-up time",
     bench_agent_command},
    {"search", "DIR PATTERN [--ignore-case] [--runs N] [--threads N]   search_text against ripgrep",
     tools::bench_search_command},
    {"tokenize", "[--tokenizer DIR] [--corpus FILE]          tokenizer against the npm reference",
     engine::bench_tokenize_command},
    {"parse", "[--mb N]                                     streaming DSML parser against a single-shot parse",
     engine::bench_parse_command},
    {"engine", "--model DIR [--decode N] [--prefill N]  forward pass against bandwidth and FMA peak",
     engine::bench_engine_command},
};

void print_usage(std::ostream& out) {
  out << "usage: dsv4 bench WHAT [ARGS...]\n"
         "Measures one part against a peer in the same run and prints the ratio.\n\n";
  for (const Bench& b : kBenches) out << "  " << b.name << " " << b.summary << "\n";
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  for (const Bench& b : kBenches)
    if (b.name == args[0]) return b.run({args.begin() + 1, args.end()});
  std::cerr << "dsv4 bench: unknown benchmark '" << args[0] << "'; 'dsv4 bench --help' lists them\n";
  return 2;
}

}  // namespace dsv4::agent
