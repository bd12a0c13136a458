#pragma once
// `dsv4 bench parse`: streaming DSML parser throughput.
#include <string>
#include <vector>

namespace dsv4::engine {

// Exit code 0, or 2 on bad usage.
int bench_parse_command(const std::vector<std::string>& args);

}  // namespace dsv4::engine
