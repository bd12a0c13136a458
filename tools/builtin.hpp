#pragma once
// The built-in tools, one definition each in its own file under tools/.
#include "tools/tool.hpp"

namespace dsv4::tools::builtin {
extern const Tool shell;
extern const Tool shell_status;
extern const Tool shell_kill;
}  // namespace dsv4::tools::builtin
