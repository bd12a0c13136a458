#include "tools/ignore.hpp"

#include <cctype>
#include <cstring>

namespace dsv4::tools {
namespace {

// Besides match / no match, a failed attempt may prove that no later start position of
// an enclosing '*' can succeed either; this keeps "a*b*c*d" linear (git's trick).
enum class Result { match, no_match, abort_all, abort_to_double_star };

bool class_member(std::string_view name, unsigned char c) {
  if (name == "alnum") return std::isalnum(c);
  if (name == "alpha") return std::isalpha(c);
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c);
  if (name == "digit") return std::isdigit(c);
  if (name == "graph") return std::isgraph(c);
  if (name == "lower") return std::islower(c);
  if (name == "print") return std::isprint(c);
  if (name == "punct") return std::ispunct(c);
  if (name == "space") return std::isspace(c);
  if (name == "upper") return std::isupper(c);
  if (name == "xdigit") return std::isxdigit(c);
  return false;
}

bool known_class(std::string_view name) {
  static constexpr std::string_view kNames[] = {"alnum", "alpha", "blank", "cntrl",
                                                "digit", "graph", "lower", "print",
                                                "punct", "space", "upper", "xdigit"};
  for (auto n : kNames)
    if (n == name) return true;
  return false;
}

// Matches the bracket expression starting at p[i] == '[' against `c`. On return, i is
// at the closing ']'. Returns nullopt-like abort through `malformed`.
bool match_bracket(std::string_view p, size_t& i, unsigned char c, bool& malformed) {
  ++i;
  bool negated = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negated = true;
    ++i;
  }
  bool matched = false;
  unsigned char prev = 0;  // the previous single member, 0 when a range may not start
  bool first = true;       // a ']' right after '[' or '[!' is a member
  for (;; ++i) {
    if (i >= p.size()) {
      malformed = true;
      return false;
    }
    unsigned char pc = static_cast<unsigned char>(p[i]);
    if (pc == ']' && !first) break;
    first = false;
    if (pc == '\\') {
      if (++i >= p.size()) {
        malformed = true;
        return false;
      }
      pc = static_cast<unsigned char>(p[i]);
      if (c == pc) matched = true;
      prev = pc;
    } else if (pc == '-' && prev && i + 1 < p.size() && p[i + 1] != ']') {
      unsigned char hi = static_cast<unsigned char>(p[++i]);
      if (hi == '\\') {
        if (++i >= p.size()) {
          malformed = true;
          return false;
        }
        hi = static_cast<unsigned char>(p[i]);
      }
      if (c >= prev && c <= hi) matched = true;
      prev = 0;
    } else if (pc == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      size_t close = p.find(']', i + 2);
      if (close == std::string_view::npos) {
        malformed = true;
        return false;
      }
      if (close < i + 3 || p[close - 1] != ':') {
        // Not "[:name:]": a plain '['.
        if (c == '[') matched = true;
        prev = '[';
        continue;
      }
      auto name = p.substr(i + 2, close - 1 - (i + 2));
      if (!known_class(name)) {
        malformed = true;
        return false;
      }
      if (class_member(name, c)) matched = true;
      i = close;
      prev = 0;
    } else {
      if (c == pc) matched = true;
      prev = pc;
    }
  }
  return matched != negated && c != '/';
}

Result wild(std::string_view p, size_t pi, std::string_view t, size_t ti) {
  for (; pi < p.size(); ++pi, ++ti) {
    char pc = p[pi];
    if (ti >= t.size() && pc != '*') return Result::abort_all;
    switch (pc) {
      case '\\':
        if (++pi >= p.size()) return Result::no_match;  // a trailing '\' matches nothing
        if (t[ti] != p[pi]) return Result::no_match;
        break;
      case '?':
        if (t[ti] == '/') return Result::no_match;
        break;
      case '[': {
        bool malformed = false;
        bool ok = match_bracket(p, pi, static_cast<unsigned char>(t[ti]), malformed);
        if (malformed) return Result::abort_all;
        if (!ok) return Result::no_match;
        break;
      }
      case '*': {
        size_t star = pi;
        while (pi < p.size() && p[pi] == '*') ++pi;
        bool spans_folders = false;
        if (pi - star >= 2) {
          bool starts_component = star == 0 || p[star - 1] == '/';
          bool ends_component = pi == p.size() || p[pi] == '/';
          if (starts_component && ends_component) {
            // "**/" may also match no folder at all.
            if (pi < p.size() && wild(p, pi + 1, t, ti) == Result::match) return Result::match;
            spans_folders = true;
          }
        }
        if (pi == p.size()) {
          if (!spans_folders && t.find('/', ti) != std::string_view::npos)
            return Result::abort_to_double_star;
          return Result::match;
        }
        for (; ti < t.size(); ++ti) {
          Result r = wild(p, pi, t, ti);
          if (r != Result::no_match) {
            if (!spans_folders || r != Result::abort_to_double_star) return r;
          } else if (!spans_folders && t[ti] == '/') {
            return Result::abort_to_double_star;
          }
        }
        return Result::abort_all;
      }
      default:
        if (t[ti] != pc) return Result::no_match;
    }
  }
  return ti == t.size() ? Result::match : Result::no_match;
}

// Git's trim_trailing_spaces: unescaped trailing spaces go.
std::string_view trim_trailing_spaces(std::string_view s) {
  size_t keep = s.size();
  bool in_spaces = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') {
      if (!in_spaces) keep = i;
      in_spaces = true;
    } else {
      in_spaces = false;
      keep = s.size();
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
    }
  }
  return in_spaces ? s.substr(0, keep) : s;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return wild(pattern, 0, path, 0) == Result::match;
}

IgnoreFile::IgnoreFile(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    line = trim_trailing_spaces(line);
    Rule rule;
    if (line.starts_with('!')) {
      rule.negate = true;
      line.remove_prefix(1);
    }
    if (line.ends_with('/')) {
      rule.dir_only = true;
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    rule.basename = line.find('/') == std::string_view::npos;
    if (line.starts_with('/')) line.remove_prefix(1);
    rule.pattern = std::string(line);
    rule.literal = rule.pattern.find_first_of("*?[\\") == std::string::npos;
    rules_.push_back(std::move(rule));
  }
}

IgnoreMatch IgnoreFile::match(std::string_view path, bool is_dir) const {
  auto slash = path.rfind('/');
  auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    const Rule& r = *it;
    if (r.dir_only && !is_dir) continue;
    auto subject = r.basename ? base : path;
    bool hit = r.literal ? subject == r.pattern : glob_match(r.pattern, subject);
    if (hit) return r.negate ? IgnoreMatch::include : IgnoreMatch::ignore;
  }
  return IgnoreMatch::none;
}

}  // namespace dsv4::tools
