#pragma once
// The built-in tools, one definition each in its own file under tools/.
#include "tools/tool.hpp"

namespace dsv4::tools::builtin {
extern const Tool outline;
extern const Tool find_symbol;
extern const Tool find_references;
}  // namespace dsv4::tools::builtin
