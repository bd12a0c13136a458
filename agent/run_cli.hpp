#pragma once
// `dsv4 run TASK ...`: the agent, headless, on the current repository.
#include <string>
#include <vector>

namespace dsv4::agent {

int run_command(const std::vector<std::string>& args);

}  // namespace dsv4::agent
