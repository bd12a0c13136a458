#include "tools/file_access.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "sandbox/workspace.hpp"
#include "tools/tool.hpp"
#include "tools/utf8_text.hpp"

namespace dsv4::tools {

std::string shown_path(const sandbox::Workspace& ws, std::string_view path) {
  try {
    auto rel = ws.relative(path);
    return escape_invalid_utf8(rel.empty() ? "." : rel);
  } catch (const sandbox::AccessDenied&) {
    return escape_invalid_utf8(path);
  }
}

namespace {

std::string_view file_type(mode_t mode) {
  if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

sandbox::Fd open_regular_file(const sandbox::Workspace& ws, std::string_view path,
                              struct ::stat& st) {
  const std::string shown = shown_path(ws, path);
  sandbox::Fd fd;
  try {
    fd = ws.open_read(path);
  } catch (const sandbox::AccessDenied& e) {
    throw ToolError("sandbox: " + escape_invalid_utf8(e.what()));  // results must be UTF-8
  } catch (const std::system_error& e) {
    int err = e.code().value();
    if (err == ENOENT)
      throw ToolError("no file '" + shown + "' in the workspace; check the path (list_files shows what exists)");
    if (err == ENOTDIR)
      throw ToolError("'" + shown + "': a part of the path before the last '/' is a file, not a folder");
    throw ToolError(escape_invalid_utf8(e.what()));
  }
  if (::fstat(fd.get(), &st) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot stat '" + shown + "'");
  if (S_ISDIR(st.st_mode))
    throw ToolError("'" + shown + "' is a folder; use list_files to see what it contains");
  if (!S_ISREG(st.st_mode))
    throw ToolError("'" + shown + "' is " + std::string(file_type(st.st_mode)) +
                    ", not a regular file; refused");
  return fd;
}

size_t read_fully(int fd, char* buffer, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, buffer + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "read failed");
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

std::string read_whole_file(const sandbox::Workspace& ws, std::string_view path,
                            size_t max_bytes) {
  struct ::stat st {};
  sandbox::Fd fd = open_regular_file(ws, path, st);
  auto size = static_cast<size_t>(st.st_size);
  if (size > max_bytes)
    throw ToolError("'" + shown_path(ws, path) + "' is " + std::to_string(size) +
                    " bytes, more than the " + std::to_string(max_bytes) +
                    " this tool handles; change it with a command instead");
  // The file may grow between fstat and read; read until the end, within the limit.
  std::string content(size + 1, '\0');
  size_t got = read_fully(fd.get(), content.data(), content.size());
  while (got == content.size() && content.size() <= max_bytes) {
    content.resize(std::min(content.size() * 2, max_bytes + 1));
    got += read_fully(fd.get(), content.data() + got, content.size() - got);
  }
  if (got > max_bytes)
    throw ToolError("'" + shown_path(ws, path) + "' grew past " + std::to_string(max_bytes) +
                    " bytes while being read; try again");
  content.resize(got);
  return content;
}

}  // namespace dsv4::tools
