#pragma once
// Git's ignore rules: the patterns of one .gitignore (or .ignore, .rgignore,
// .git/info/exclude) and their matching, as `git check-ignore` does it.
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::tools {

// Git's wildmatch: '*', '?' and '[...]' (ranges, '!'/'^' negation, [:alpha:] classes)
// never match '/'; "**" between slashes (or at an end) spans folders; '\' escapes.
// A malformed pattern (unclosed '[') matches nothing.
bool glob_match(std::string_view pattern, std::string_view path);

enum class IgnoreMatch { none, ignore, include };

class IgnoreFile {
 public:
  IgnoreFile() = default;
  // Parses the file's text: '#' comments, blank lines, trailing spaces (unless escaped),
  // '!' negation, '/' anchoring, trailing '/' for folders only, CRLF line ends.
  explicit IgnoreFile(std::string_view text);

  bool empty() const { return rules_.empty(); }
  // The last rule matching `path` (relative to the folder holding the file) decides.
  IgnoreMatch match(std::string_view path, bool is_dir) const;

 private:
  struct Rule {
    std::string pattern;  // without '!', the leading '/' and the trailing '/'
    bool negate = false;
    bool dir_only = false;
    bool basename = false;  // no '/' inside: matches the last component at any depth
    bool literal = false;   // no wildcard: compared as is
  };
  std::vector<Rule> rules_;
};

}  // namespace dsv4::tools
