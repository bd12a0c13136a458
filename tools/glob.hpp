#pragma once
// The `glob` filter of list_files and search_text: git's wildmatch ('*', '?', '[...]',
// '**' across folders) plus {a,b} alternatives. A glob without '/' matches the name at
// any depth ("*.c"); one with '/' matches the path below the folder searched.
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::tools {

class PathGlob {
 public:
  // Throws std::invalid_argument naming the problem (unbalanced braces, too many
  // alternatives).
  explicit PathGlob(std::string_view glob);
  // `path` relative to the folder searched.
  bool matches(std::string_view path) const;

 private:
  struct Alternative {
    std::string pattern;
    bool name_only;
  };
  std::vector<Alternative> alternatives_;
};

}  // namespace dsv4::tools
