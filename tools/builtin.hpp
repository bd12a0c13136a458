#pragma once
// The built-in tools, one definition each in its own file under tools/.
#include "tools/tool.hpp"

namespace dsv4::tools::builtin {
extern const Tool read_file;
extern const Tool write_file;
extern const Tool edit_file;
extern const Tool apply_patch;
extern const Tool list_files;
extern const Tool search_text;
extern const Tool git_status;
extern const Tool git_diff;
extern const Tool git_log;
extern const Tool git_show;
extern const Tool git_blame;
extern const Tool git_commit;
extern const Tool git_branch;
extern const Tool shell;
extern const Tool shell_status;
extern const Tool shell_kill;
extern const Tool outline;
extern const Tool find_symbol;
extern const Tool find_references;
}  // namespace dsv4::tools::builtin
