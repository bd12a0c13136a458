#pragma once
// `dsv4 sandbox check` (what isolation this machine supports) and the internal
// `dsv4 sandbox exec --policy JSON -- argv...` (the isolating launcher).
#include <string>
#include <vector>

namespace dsv4::sandbox {

int sandbox_command(const std::vector<std::string>& args);

}  // namespace dsv4::sandbox
