#pragma once
// `dsv4 bench search DIR PATTERN`: search_text's engine against ripgrep on one tree.
#include <string>
#include <vector>

namespace dsv4::tools {

int bench_search_command(const std::vector<std::string>& args);

}  // namespace dsv4::tools
