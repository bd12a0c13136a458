#pragma once
// `dsv4 tool NAME --args JSON [--root DIR]`: run one tool and print its JSON result.
#include <string>
#include <vector>

namespace dsv4::tools {

// Exit code: 0 when the tool succeeded, 1 when it reported a failure, 2 on bad usage.
int tool_command(const std::vector<std::string>& args);

}  // namespace dsv4::tools
