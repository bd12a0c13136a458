#pragma once
// The built-in tools, one definition each in its own file under tools/.
#include "tools/tool.hpp"

namespace dsv4::tools::builtin {
extern const Tool outline;
}  // namespace dsv4::tools::builtin
