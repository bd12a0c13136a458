// The dsv4 command line: parses only the subcommand and hands over to the part that
// owns it.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/bench.hpp"
#include "agent/run_cli.hpp"
#include "engine/encoding_cli.hpp"
#include "engine/model_cli.hpp"
#include "engine/tokenizer_cli.hpp"
#include "sandbox/cli.hpp"
#include "tools/cli.hpp"
#include "tools/mcp/server.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp =
    "dsv4 — a coding agent for DeepSeek V4 with its own engine, tools and sandbox\n"
    "\n"
    "usage: dsv4 [PROMPT] [OPTIONS]        the agent, interactive, in this repository\n"
    "       dsv4 COMMAND [ARGS...]\n"
    "\n"
    "agent:\n"
    "  [PROMPT] [OPTIONS]                   interactive: prompts and approvals on the terminal\n"
    "                                       (options as for run; 'dsv4 run --help')\n"
    "  run TASK [--json] [--events] [...]   run the agent on TASK in this repository\n"
    "tools:\n"
    "  tool NAME --args JSON [--root DIR]   run one tool, print its JSON result\n"
    "  mcp [--root DIR] [--read-only]       MCP server on stdio exposing the tools\n"
    "  sandbox check                        what command isolation this machine supports\n"
    "engine building blocks:\n"
    "  tokenize --tokenizer DIR --text T    token ids of a text (or --file F) as JSON\n"
    "  detokenize --tokenizer DIR --ids J   the text of a JSON array of token ids\n"
    "  encode --messages FILE [...]         render a conversation into the V4 prompt\n"
    "  parse --input FILE [--tolerant]      parse a completion into an assistant message\n"
    "local engine (CPU):\n"
    "  logits --model DIR --ids FILE --out FILE [--prefill N] [--mtp FILE]   model logits\n"
    "  model synth --config FILE --out DIR [--dtype D]   random-weight V4 checkpoint\n"
    "  generate --model DIR (-p PROMPT | --messages FILE) [--chat]   stream generated text\n"
    "benchmarks (each against a peer measured in the same run):\n"
    "  bench search DIR PATTERN             code search against ripgrep\n"
    "  bench tokenize                       tokenizer speed against the npm reference\n"
    "  bench parse                          streaming DSML parser against a single-shot parse\n"
    "  bench engine --model DIR             forward pass against memory bandwidth and FMA peak\n"
    "  bench agent                          loop overhead per step and start-up time\n"
    "\n"
    "  --help, -h      this text;  COMMAND --help for one command\n"
    "  --version       the version\n";

struct Command {
  std::string_view name;
  int (*run)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"run", dsv4::agent::run_command},
    {"tool", dsv4::tools::tool_command},
    {"mcp", dsv4::tools::mcp::mcp_command},
    {"sandbox", dsv4::sandbox::sandbox_command},
    {"tokenize", dsv4::engine::tokenize_command},
    {"detokenize", dsv4::engine::detokenize_command},
    {"encode", dsv4::engine::encode_command},
    {"parse", dsv4::engine::parse_command},
    {"logits", dsv4::engine::logits_command},
    {"model", dsv4::engine::model_command},
    {"generate", dsv4::engine::generate_command},
    {"bench", dsv4::agent::bench_command},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string first = args.empty() ? "" : args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << kHelp;
    return 0;
  }
  if (first == "--version") {
    std::cout << "dsv4 " << kVersion << "\n";
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == first) {
      args.erase(args.begin());
      try {
        return c.run(args);
      } catch (const std::exception& e) {
        std::cerr << "dsv4 " << c.name << ": " << e.what() << "\n";
        return 1;
      }
    }
  }
  // Options or a prompt of several words start the interactive agent; a single unknown word
  // is more likely a mistyped command than a prompt.
  if (first.empty() || first.starts_with("-") || first.find_first_of(" \t\n") != std::string::npos) {
    try {
      return dsv4::agent::interactive_command(args);
    } catch (const std::exception& e) {
      std::cerr << "dsv4: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "dsv4: unknown command '" << first
            << "'; run 'dsv4 --help' for the list (to give the agent a prompt, quote it: dsv4 \""
            << first << " ...\")\n";
  return 2;
}
