#include <unistd.h>

#include <csignal>
#include <iostream>
#include <sstream>

#include "tools/mcp/server.hpp"

namespace dsv4::tools::mcp {
namespace {

constexpr const char* kUsage =
    "usage: dsv4 mcp [--root DIR] [--read-only] [--tools a,b,c] [sandbox flags]\n"
    "Serves dsv4's tools to an MCP client over stdio (JSON-RPC 2.0, one message per\n"
    "line). The workspace is the client's first root when it offers roots, else DIR\n"
    "(default: the current folder). Logs go to stderr, never stdout.\n"
    "  --read-only   offer only the tools that change nothing\n"
    "  --tools LIST  offer only these tools (comma-separated names)\n"
    "  --page-size N tools per tools/list page (default 50)\n"
    "Sandbox flags:\n";

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

int usage_error(const std::string& message) {
  std::cerr << "dsv4 mcp: " << message << "\n(see 'dsv4 mcp --help')\n";
  return 2;
}

}  // namespace

int mcp_command(const std::vector<std::string>& args) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    try {
      if (sandbox::parse_sandbox_flag(args, i, options.sandbox_flags)) continue;
    } catch (const std::invalid_argument& e) {
      return usage_error(e.what());
    }
    if (a == "--help" || a == "-h") {
      std::cout << kUsage << sandbox::kSandboxFlagsHelp;
      return 0;
    } else if (a == "--read-only") {
      options.read_only = true;
    } else if (a == "--root" || a == "--tools" || a == "--page-size") {
      if (i + 1 >= args.size()) return usage_error(a + " needs a value");
      const std::string& value = args[++i];
      if (a == "--root") {
        options.root = value;
      } else if (a == "--tools") {
        options.only_tools = split_names(value);
      } else {
        try {
          options.page_size = std::stoul(value);
        } catch (const std::exception&) {
          options.page_size = 0;
        }
        if (options.page_size == 0) return usage_error("--page-size needs a positive number, got '" + value + "'");
      }
    } else {
      return usage_error("unknown argument '" + a + "'");
    }
  }
  // The protocol owns stdout: whatever else writes to fd 1 lands on stderr instead.
  int protocol_out = ::dup(STDOUT_FILENO);
  if (protocol_out < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::cerr << "dsv4 mcp: cannot set up stdout\n";
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return serve(options, STDIN_FILENO, protocol_out);
  } catch (const std::invalid_argument& e) {
    std::cerr << "dsv4 mcp: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace dsv4::tools::mcp
