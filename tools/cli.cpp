#include "tools/cli.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "sandbox/workspace.hpp"
#include "tools/registry.hpp"

namespace dsv4::tools {
namespace {

constexpr const char* kUsage =
    "usage: dsv4 tool NAME --args JSON [--root DIR] [SANDBOX FLAGS]\n"
    "       dsv4 tool NAME --help      describe one tool and its arguments\n"
    "       dsv4 tool --list           list the tools\n"
    "Runs one tool in the workspace DIR (default: the current folder) and prints its\n"
    "JSON result. Exit code 0 when the result is ok, 1 when the tool failed.\n"
    "Sandbox flags:\n";

int usage_error(const std::string& message) {
  std::cerr << "dsv4 tool: " << message << "\n(see 'dsv4 tool --help')\n";
  return 2;
}

void print_list() {
  for (const Tool& t : all_tools()) {
    auto desc = tool_description(t);
    auto first_line = desc.substr(0, desc.find('\n'));
    std::string name(t.name);
    name += t.traits.read_only ? " " : "*";
    name.resize(std::max<size_t>(name.size() + 1, 18), ' ');
    std::cout << name << first_line << "\n";
  }
  std::cout << "(* changes the workspace or runs commands)\n";
}

}  // namespace

int tool_command(const std::vector<std::string>& args) {
  std::string name, root = ".", args_text = "{}";
  bool help = false;
  sandbox::SandboxFlags sandbox_flags;
  for (size_t i = 0; i < args.size(); ++i) {
    try {
      if (sandbox::parse_sandbox_flag(args, i, sandbox_flags)) continue;
    } catch (const std::invalid_argument& e) {
      return usage_error(e.what());
    }
    const auto& a = args[i];
    auto value = [&]() -> const std::string* { return i + 1 < args.size() ? &args[++i] : nullptr; };
    if (a == "--help" || a == "-h") {
      help = true;
    } else if (a == "--list") {
      print_list();
      return 0;
    } else if (a == "--args" || a == "--root") {
      const std::string* v = value();
      if (!v) return usage_error(a + " needs a value");
      (a == "--args" ? args_text : root) = *v;
    } else if (a.starts_with("--")) {
      return usage_error("unknown option '" + a + "'");
    } else if (name.empty()) {
      name = a;
    } else {
      return usage_error("unexpected argument '" + a + "'; pass tool arguments as --args JSON");
    }
  }
  if (name.empty()) {
    if (help) {
      std::cout << kUsage << sandbox::kSandboxFlagsHelp;
      return 0;
    }
    return usage_error("no tool named; 'dsv4 tool --list' lists them");
  }
  sandbox::Policy policy;
  try {
    policy = sandbox::load_policy(root, sandbox_flags);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  if (auto warning = sandbox::policy_warning(policy); !warning.empty() && !help)
    std::cerr << warning << "\n";
  const Tool* tool = find_tool(name);
  if (!tool) return usage_error("no tool named '" + name + "'; 'dsv4 tool --list' lists them");
  if (help) {
    std::cout << tool_description(*tool) << "\nArguments (JSON Schema):\n"
              << Json::parse(tool->schema).dump(2) << "\n";
    return 0;
  }
  Json parsed = Json::parse(args_text, nullptr, false);
  if (parsed.is_discarded()) return usage_error("--args is not valid JSON: " + args_text);
  try {
    sandbox::Workspace workspace{std::filesystem::path(root), policy};
    ToolContext ctx{workspace};
    Json result = call_tool(*tool, parsed, ctx);
    std::cout << result.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return result.value("ok", false) ? 0 : 1;
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
}

}  // namespace dsv4::tools
