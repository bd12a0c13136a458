#pragma once
// Text as lines that keep their terminators, so that joining them gives the text back.
#include <string_view>
#include <vector>

namespace dsv4::tools {

// `text` cut after each '\n'; the last line lacks its '\n' when the text does not end
// with one. An empty text has no lines.
std::vector<std::string_view> split_lines(std::string_view text);

enum class LineEndings { none, lf, crlf, mixed };

// How the lines of `text` end: all "\r\n", all bare "\n", both, or no line break at all.
LineEndings line_endings(std::string_view text);

// "none", "lf", "crlf" or "mixed".
std::string_view to_string(LineEndings endings);

}  // namespace dsv4::tools
