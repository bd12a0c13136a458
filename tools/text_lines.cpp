#include "tools/text_lines.hpp"

namespace dsv4::tools {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

LineEndings line_endings(std::string_view text) {
  bool lf = false, crlf = false;
  for (size_t nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n', nl + 1)) {
    (nl > 0 && text[nl - 1] == '\r' ? crlf : lf) = true;
    if (lf && crlf) return LineEndings::mixed;
  }
  return crlf ? LineEndings::crlf : lf ? LineEndings::lf : LineEndings::none;
}

std::string_view to_string(LineEndings endings) {
  switch (endings) {
    case LineEndings::none: return "none";
    case LineEndings::lf: return "lf";
    case LineEndings::crlf: return "crlf";
    case LineEndings::mixed: return "mixed";
  }
  return "none";
}

}  // namespace dsv4::tools
