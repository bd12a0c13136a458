#pragma once
// The engine of search_text and `dsv4 bench search`: a regex over the workspace, files
// searched in parallel, with ripgrep's defaults: ignore files honoured, hidden names,
// symlinks and binary files (a NUL byte) skipped, matches line by line.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::tools {

struct TextSearch {
  std::string pattern;
  bool ignore_case = false;
  std::string path;   // root-relative folder or file; "" is the root
  std::string glob;   // PathGlob over paths below `path`; "" keeps every file
  int context = 0;    // lines shown before and after each matching line
  size_t max_results = std::numeric_limits<size_t>::max();  // matching lines kept
  unsigned threads = 0;  // 0: one per hardware thread
};

struct LineMatch {
  std::string path;   // root-relative, raw bytes
  uint64_t line = 0;  // 1-based
  uint64_t column = 0;  // 1-based byte offset of the first match in the line
  std::string text;   // the line, cut around the match when it is long
  std::vector<std::string> before, after;  // context lines, cut the same way
};

struct TextSearchResult {
  std::vector<LineMatch> matches;  // sorted by path, then line
  bool truncated = false;          // more lines matched than max_results
  size_t files_searched = 0;
  size_t binary_files = 0;         // skipped, or searched only up to the NUL as rg does
};

// Lines longer than this are cut to a window around the match.
inline constexpr size_t kMaxLineBytes = 400;

// Throws RegexError for a bad pattern, std::invalid_argument for a bad glob, and the
// Workspace's errors for a bad path.
TextSearchResult search_tree(const sandbox::Workspace& workspace, const TextSearch& request);

}  // namespace dsv4::tools
