#pragma once
// `dsv4 bench WHAT ...`: routes to the benchmark of the part that owns WHAT.
#include <string>
#include <vector>

namespace dsv4::agent {

int bench_command(const std::vector<std::string>& args);

}  // namespace dsv4::agent
