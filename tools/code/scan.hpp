#pragma once
// Reading source files for code intelligence, one or the whole workspace, in parallel.
#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "tools/code/languages.hpp"

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::tools::code {

// Larger files are skipped by searches and refused by outline: generated or vendored
// code, where a parse costs seconds and the answer is noise.
inline constexpr size_t kMaxSourceBytes = 2 * 1024 * 1024;

struct SourceFile {
  std::string path;  // workspace-relative
  const Language* language = nullptr;
};

// Why a file was not read; nothing when it was.
enum class Skip { none, too_large, binary };

// Reads the workspace file `path` into `text`, unless it is over kMaxSourceBytes or looks
// binary (a NUL byte in its first 8 KiB). Throws for unreadable files.
Skip read_source(const sandbox::Workspace& workspace, std::string_view path, std::string& text);

// The supported source files under `path` (a folder or one file), skipping what
// .gitignore ignores, sorted by path.
std::vector<SourceFile> source_files(const sandbox::Workspace& workspace, std::string_view path);

// What a search over many files skipped, for the note that says so.
struct ScanReport {
  size_t files = 0;  // read and searched
  size_t too_large = 0, binary = 0, unreadable = 0;
  bool stopped = false;  // cancelled before the end
  // "" when nothing was skipped, else a sentence naming what was and why.
  std::string note() const;
};

// File bytes as a JSON string: invalid UTF-8 becomes U+FFFD, and text over `max_bytes`
// is cut at a character with an ellipsis.
std::string json_text(std::string_view bytes, size_t max_bytes = 200);

// Keeps a tool's list of results within the registry's size cap, so that the tool itself
// says what it left out instead of the registry cutting blindly.
class ListBudget {
 public:
  explicit ListBudget(size_t max_items) : max_items_(max_items) {}
  // Whether an entry of `bytes` (serialized) still fits; counts it when it does.
  bool take(size_t bytes);
  size_t shown() const { return shown_; }

 private:
  size_t max_items_, shown_ = 0, used_ = 0;
};

// Notes for a tool result joined into one sentence ("" when there are none).
std::string join_notes(const std::vector<std::string>& notes);

// Reads every file of `files` (in parallel) and calls `each(i, text)` for those that are
// text and not too large; `each` runs concurrently for different i.
ScanReport for_each_source(const sandbox::Workspace& workspace,
                           const std::vector<SourceFile>& files, std::stop_token stop,
                           const std::function<void(size_t, std::string_view)>& each);

// Runs `work(i)` for i in [0, count) on a few threads; stops early when `stop` is
// requested. `work` must be safe to run concurrently for different i; the first
// exception it throws stops the rest and is rethrown.
void parallel_for(size_t count, std::stop_token stop, const std::function<void(size_t)>& work);

}  // namespace dsv4::tools::code
