#pragma once
// Unified diffs as `git diff` writes them, for showing a change to the model.
#include <string>
#include <string_view>

namespace dsv4::tools {

// The line diff from `before` to `after` in unified format: "--- old_label",
// "+++ new_label", then "@@ -l,n +l,n @@" hunks with `context` unchanged lines around
// each change and "\ No newline at end of file" where a last line lacks its '\n'.
// Empty when the texts are equal. Labels are used as given ("a/path", "/dev/null").
std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view old_label, std::string_view new_label,
                         size_t context = 3);

}  // namespace dsv4::tools
