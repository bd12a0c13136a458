// The dsv4 command line: parses only the subcommand and hands over to the part that
// owns it.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dsml_bench.hpp"
#include "engine/encoding_cli.hpp"
#include "tools/cli.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp =
    "dsv4 — a coding agent for DeepSeek V4 with its own engine, tools and sandbox\n"
    "\n"
    "usage: dsv4 COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  tool NAME --args JSON [--root DIR]   run one tool, print its JSON result\n"
    "  bench search DIR PATTERN             code search against ripgrep\n"
    "  encode --messages FILE [...]         render a conversation into the V4 prompt\n"
    "  parse --input FILE [--tolerant]      parse a completion into an assistant message\n"
    "  bench parse [--mb N]                 streaming DSML parser against a single-shot parse\n"
    "\n"
    "  --help, -h      this text;  COMMAND --help for one command\n"
    "  --version       the version\n";

struct Command {
  std::string_view name;
  int (*run)(const std::vector<std::string>&);
};

// `dsv4 bench NAME ...`: each benchmark belongs to the part it measures.
const Command kBenches[] = {
    {"parse", dsv4::engine::bench_parse_command},
};

int bench_command(const std::vector<std::string>& args) {
  for (const Command& b : kBenches) {
    if (!args.empty() && b.name == args[0]) return b.run({args.begin() + 1, args.end()});
  }
  std::cerr << "dsv4 bench: name a benchmark:";
  for (const Command& b : kBenches) std::cerr << " " << b.name;
  std::cerr << "\n";
  return 2;
}

const Command kCommands[] = {
    {"tool", dsv4::tools::tool_command},
    {"encode", dsv4::engine::encode_command},
    {"parse", dsv4::engine::parse_command},
    {"bench", bench_command},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kHelp;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "dsv4 " << kVersion << "\n";
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == args[0]) {
      args.erase(args.begin());
      try {
        return c.run(args);
      } catch (const std::exception& e) {
        std::cerr << "dsv4 " << c.name << ": " << e.what() << "\n";
        return 1;
      }
    }
  }
  std::cerr << "dsv4: unknown command '" << args[0] << "'; run 'dsv4 --help' for the list\n";
  return 2;
}
