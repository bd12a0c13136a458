#pragma once
// The environment a shell command sees: ours without secrets, plus settings that keep
// tools from waiting on a pager, an editor or a terminal.
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::tools {

// True for variable names that commonly hold credentials (the rule is in the .cpp and in
// prompts/tools/shell.md).
bool is_secret_name(std::string_view name);

// `environ`-style NAME=VALUE entries filtered and completed for a command.
std::vector<std::string> shell_environment(char** environ);

}  // namespace dsv4::tools
