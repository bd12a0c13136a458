#pragma once
// The agent on the current repository: headless (`dsv4 run TASK ...`) or interactive
// (`dsv4 [PROMPT] ...`: prompts and approvals on the terminal, the answer streamed).
#include <string>
#include <vector>

namespace dsv4::agent {

int run_command(const std::vector<std::string>& args);
int interactive_command(const std::vector<std::string>& args);

}  // namespace dsv4::agent
