#include "tools/glob.hpp"

#include <stdexcept>

#include "tools/ignore.hpp"

namespace dsv4::tools {
namespace {

constexpr size_t kMaxAlternatives = 256;

// Expands the first {a,b,...} of `glob` (nested ones by recursion) into `out`.
void expand(const std::string& glob, std::vector<std::string>& out) {
  size_t open = std::string::npos;
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') ++i;
    else if (glob[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string::npos) {
    if (out.size() >= kMaxAlternatives)
      throw std::invalid_argument("the glob expands to more than " +
                                  std::to_string(kMaxAlternatives) + " alternatives");
    out.push_back(glob);
    return;
  }
  std::vector<std::string> parts{""};
  int depth = 0;
  size_t close = std::string::npos;
  for (size_t i = open + 1; i < glob.size() && close == std::string::npos; ++i) {
    char c = glob[i];
    if (c == '\\' && i + 1 < glob.size()) {
      parts.back() += glob.substr(i, 2);
      ++i;
    } else if (c == '{') {
      ++depth;
      parts.back() += c;
    } else if (c == '}' && depth > 0) {
      --depth;
      parts.back() += c;
    } else if (c == '}') {
      close = i;
    } else if (c == ',' && depth == 0) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  if (close == std::string::npos)
    throw std::invalid_argument("unbalanced '{' at position " + std::to_string(open) +
                                " of the glob '" + glob + "'; close it with '}' or escape it as '\\{'");
  for (const auto& part : parts)
    expand(glob.substr(0, open) + part + glob.substr(close + 1), out);
}

}  // namespace

PathGlob::PathGlob(std::string_view glob) {
  std::vector<std::string> expanded;
  expand(std::string(glob), expanded);
  for (auto& g : expanded) {
    bool name_only = g.find('/') == std::string::npos;
    if (g.starts_with('/')) g.erase(0, 1);
    alternatives_.push_back({std::move(g), name_only});
  }
}

bool PathGlob::matches(std::string_view path) const {
  auto slash = path.rfind('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (const auto& a : alternatives_)
    if (glob_match(a.pattern, a.name_only ? name : path)) return true;
  return false;
}

}  // namespace dsv4::tools
