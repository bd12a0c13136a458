#pragma once
// The workspace: the one folder tools may touch. Every path a tool receives from the
// model goes through here, so that no file outside the root is read or written, and no
// protected path (.git/hooks, .git/config, .dsv4 by default) is written at all.
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/fd.hpp"
#include "sandbox/policy.hpp"

namespace dsv4::sandbox {

// A path or a command was refused; the message names what and the rule that refused it
// ("... [sandbox rule: NAME]"), and rule() gives NAME alone.
class AccessDenied : public std::runtime_error {
 public:
  AccessDenied(std::string rule, const std::string& message)
      : std::runtime_error(message + " [sandbox rule: " + rule + "]"), rule_(std::move(rule)) {}
  const std::string& rule() const { return rule_; }

 private:
  std::string rule_;
};

class Workspace {
 public:
  // `root` must be an existing folder; it is made absolute and canonical. Protected paths
  // of the policy must be root-relative without "..".
  explicit Workspace(const std::filesystem::path& root, Policy policy = {});

  const std::filesystem::path& root() const { return root_; }
  const Policy& policy() const { return policy_; }

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
  // keeping the old mode; creates missing parent folders. A symlink is written through
  // to its target (which must be inside). Because the file is replaced, never written in
  // place, a hard link to a file elsewhere is split off, not written through: the other
  // name keeps the old contents.
  void write_atomic(std::string_view path, std::string_view content) const;
  // Removes a file or symlink (never a folder, never what a symlink points to).
  void remove_file(std::string_view path) const;

  // The argv that runs `argv` for a command-running tool: wrapped in the isolating
  // launcher (`dsv4 sandbox exec`), or unchanged when the policy runs commands without
  // isolation. Throws AccessDenied when the machine cannot isolate commands. The caller
  // still chooses the working folder.
  std::vector<std::string> command_argv(std::vector<std::string> argv) const;

 private:
  // Refuses writing at root-relative `rel` (read-only mode, protected paths).
  void check_writable(const std::string& rel, std::string_view shown) const;
  // The root-relative path where an fd opened beneath the root really is.
  std::string real_relative(int fd, std::string_view shown) const;
  Fd make_parents(const std::string& rel_dir, std::string_view shown) const;

  std::filesystem::path root_;
  Fd root_fd_;
  Policy policy_;
  std::vector<std::string> protected_;  // policy_.protected_paths, normalised
};

}  // namespace dsv4::sandbox
