#pragma once
// `dsv4 bench agent`: the loop's own cost per step and the program's start-up time.
#include <string>
#include <vector>

namespace dsv4::agent {

int bench_agent_command(const std::vector<std::string>& args);

}  // namespace dsv4::agent
