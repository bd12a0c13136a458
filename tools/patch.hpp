#pragma once
// Unified diffs (as `git diff` or `diff -u` write them) parsed into per-file hunks, and
// hunks applied to a file's text: exact context first, then the nearest offset.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::tools::patch {

struct HunkLine {
  char kind;         // ' ' context, '-' removed, '+' added
  std::string text;  // with its '\n', unless marked "\ No newline at end of file"
};

struct Hunk {
  size_t old_start = 0, old_count = 0, new_start = 0, new_count = 0;
  std::string header;         // "@@ -1,3 +1,4 @@", as the patch wrote it
  size_t patch_line = 0;      // 1-based line of the header in the patch
  bool counts_fixed = false;  // the header's counts did not match its lines
  std::vector<HunkLine> lines;
};

struct FilePatch {
  // Paths as written, without the "a/" and "b/" prefixes; "" stands for /dev/null.
  std::string old_path, new_path;
  bool created = false;
  bool deleted = false;
  bool binary = false;  // "GIT binary patch" or "Binary files ... differ"
  bool git = false;     // a "diff --git" section, whose differing names mean a rename
  std::vector<Hunk> hunks;

  bool renamed() const { return git && !created && !deleted && old_path != new_path; }
  // The path it is known by in messages: the new one, or the old one when deleted.
  const std::string& path() const { return deleted ? old_path : new_path; }
};

// The patch text is not a unified diff; the message names the patch line.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A hunk that fits nowhere in the file. `line` is the 1-based file line of the first
// mismatch at the closest candidate place; `found` is empty past the end of the file.
struct Mismatch : std::runtime_error {
  Mismatch(size_t hunk, size_t line, std::string expected, std::string found, bool at_end);
  size_t hunk;  // 0-based index into FilePatch::hunks
  size_t line;
  std::string expected, found;
  bool at_end;  // the file ended where `expected` was wanted
};

// Every file section of `text`, in order; ParseError when there is none or a hunk is
// malformed.
std::vector<FilePatch> parse(std::string_view text);

struct Applied {
  std::string text;
  std::vector<long> offsets;  // per hunk: where it applied minus where its header said
  bool crlf_adapted = false;  // LF hunks were matched against a CRLF file
};

// `original` with every hunk of `file` applied in order; throws Mismatch.
Applied apply(const FilePatch& file, std::string_view original);

}  // namespace dsv4::tools::patch
