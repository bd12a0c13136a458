#pragma once
// Walks the workspace the way ripgrep does by default: .gitignore files (nested ones
// relative to their folder), .git/info/exclude, .ignore and .rgignore are honoured,
// hidden names are skipped, symlinks are reported but never followed, `.git` is never
// shown. Names are raw bytes: non-UTF-8, spaces and newlines pass through unchanged.
#include <cstdint>
#include <functional>
#include <string>

#include "sandbox/fd.hpp"

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::tools {

struct WalkOptions {
  std::string path;           // root-relative folder to walk; "" is the root
  bool hidden = false;        // also names starting with '.' (".git" stays out)
  bool ignore_files = true;   // honour .gitignore, info/exclude, .ignore, .rgignore
  bool require_git = true;    // .gitignore and info/exclude only inside a git repository
  int max_depth = -1;         // entries at most this deep below `path` (1: its children)
  bool sorted = false;        // visit in path order (one thread only)
  bool sizes = false;         // fill Entry::size (one stat per file)
  unsigned threads = 1;       // >1: `visit` runs concurrently on that many threads
};

struct Entry {
  enum class Kind { file, dir, symlink, other };
  std::string path;  // root-relative, '/'-separated
  Kind kind = Kind::file;
  int depth = 0;      // 1 for the children of WalkOptions::path
  uint64_t size = 0;  // bytes, when WalkOptions::sizes asked for it

  // Opens this file for reading without following a symlink; only inside `visit`.
  sandbox::Fd open() const;
  // The name inside its folder.
  std::string_view name() const;

  int parent_fd = -1;  // the open folder holding the entry, during `visit`
};

// Calls `visit` for every entry below `options.path` that is neither ignored, hidden,
// nor inside an ignored folder. `visit` returning false ends the walk (soon, with
// threads). Throws sandbox::AccessDenied or std::system_error when `options.path`
// cannot be opened as a folder; unreadable subfolders are skipped.
void walk(const sandbox::Workspace& workspace, const WalkOptions& options,
          const std::function<bool(const Entry&)>& visit);

}  // namespace dsv4::tools
