#pragma once
// The workspace: the one folder tools may touch. Every path a tool receives from the
// model goes through here, so that no file outside the root is read or written.
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/fd.hpp"

namespace dsv4::sandbox {

// A path was refused; the message names the path and the rule that refused it.
class AccessDenied : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Workspace {
 public:
  // `root` must be an existing folder; it is made absolute and canonical.
  explicit Workspace(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  // The model's path (relative to the root, or absolute inside it) as a normalised
  // root-relative path: "" for the root itself, never starting with "..".
  std::string relative(std::string_view path) const;
  // root() / relative(path).
  std::filesystem::path absolute(std::string_view path) const;

  // Opens beneath the root without following any symlink out of it.
  Fd open_read(std::string_view path) const;
  Fd open_dir(std::string_view path) const;
  // lstat-like information of the entry itself; false if it does not exist.
  bool stat(std::string_view path, struct ::stat& out) const;

  // Replaces the file's contents atomically (temp file + rename in the same folder),
  // keeping the old mode; creates missing parent folders.
  void write_atomic(std::string_view path, std::string_view content) const;
  void remove_file(std::string_view path) const;

  // The argv that runs `argv` for a command-running tool; the sandbox may wrap it in an
  // isolating launcher. The caller still chooses the working folder.
  std::vector<std::string> command_argv(std::vector<std::string> argv) const;

 private:
  std::filesystem::path root_;
  Fd root_fd_;
};

}  // namespace dsv4::sandbox
