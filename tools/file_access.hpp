#pragma once
// Opening and reading the model's files through the workspace, with errors the model can
// act on (missing file, folder, FIFO, symlink loop) instead of bare errno texts.
#include <sys/stat.h>

#include <string>
#include <string_view>

#include "sandbox/fd.hpp"

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::tools {

// The model's path as shown in results and errors: root-relative, valid UTF-8.
std::string shown_path(const sandbox::Workspace& ws, std::string_view path);

// Opens the regular file `path` for reading and fills `st`; ToolError when it does not
// exist, is a folder or is not a regular file.
sandbox::Fd open_regular_file(const sandbox::Workspace& ws, std::string_view path,
                              struct ::stat& st);

// The whole contents of the regular file `path`; ToolError as above, or when it is larger
// than `max_bytes`.
std::string read_whole_file(const sandbox::Workspace& ws, std::string_view path,
                            size_t max_bytes);

// Reads up to `size` bytes at the current position, fewer only at the end of the file.
size_t read_fully(int fd, char* buffer, size_t size);

}  // namespace dsv4::tools
