#include "tools/patch.hpp"

#include <algorithm>
#include <charconv>

#include "tools/text_lines.hpp"

namespace dsv4::tools::patch {
namespace {

std::string_view without_cr(std::string_view s) {
  return s.ends_with('\r') ? s.substr(0, s.size() - 1) : s;
}

// The patch's lines without their '\n' ("\r" stays: it belongs to CRLF file contents).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  for (auto line : split_lines(text))
    out.push_back(line.ends_with('\n') ? line.substr(0, line.size() - 1) : line);
  return out;
}

[[noreturn]] void fail(size_t line, const std::string& what) {
  throw ParseError("patch line " + std::to_string(line) + ": " + what);
}

// A C-quoted name as git writes unusual paths: "a/sp\303\251cial\tname".
// `s` starts at the opening quote; `used` receives the length including both quotes.
std::string unquote(std::string_view s, size_t& used, size_t line) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      used = i + 1;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) break;
    c = s[i];
    switch (c) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '"': case '\\': out += c; break;
      default:
        if (c >= '0' && c <= '3' && i + 2 < s.size()) {
          int v = 0;
          for (int k = 0; k < 3; ++k, ++i) {
            if (s[i] < '0' || s[i] > '7') fail(line, "bad octal escape in quoted path");
            v = v * 8 + (s[i] - '0');
          }
          --i;
          out += static_cast<char>(v);
        } else {
          fail(line, std::string("unknown escape '\\") + c + "' in quoted path");
        }
    }
  }
  fail(line, "quoted path without its closing '\"'");
}

// The path of a "--- " or "+++ " line: quoted, or up to a tab (git ends names that hold
// spaces with one; diff -u puts the date after one).
std::string header_path(std::string_view rest, size_t line) {
  rest = without_cr(rest);
  if (rest.starts_with('"')) {
    size_t used = 0;
    return unquote(rest, used, line);
  }
  return std::string(rest.substr(0, rest.find('\t')));
}

// "diff --git a/X b/Y": the two paths, only needed when no ---/+++ lines follow.
std::pair<std::string, std::string> git_header_paths(std::string_view rest, size_t line) {
  rest = without_cr(rest);
  if (rest.starts_with('"')) {
    size_t used = 0;
    std::string a = unquote(rest, used, line);
    auto tail = rest.substr(std::min(rest.size(), used + 1));
    return {a, tail.starts_with('"') ? unquote(tail, used, line) : std::string(tail)};
  }
  // Unquoted names may hold spaces: "a/P b/P" with the same P is the usual case.
  if (rest.size() % 2 == 1) {
    size_t half = rest.size() / 2;
    auto a = rest.substr(0, half), b = rest.substr(half + 1);
    if (rest[half] == ' ' && a.size() > 2 && a.substr(2) == b.substr(2))
      return {std::string(a), std::string(b)};
  }
  size_t split = rest.find(" b/");
  if (split == std::string_view::npos) split = rest.find(' ');
  if (split == std::string_view::npos) fail(line, "cannot read the paths of 'diff --git'");
  auto tail = rest.substr(split + 1);
  return {std::string(rest.substr(0, split)),
          tail.starts_with('"') ? [&] { size_t used = 0; return unquote(tail, used, line); }()
                                : std::string(tail)};
}

// Drops git's "a/" and "b/" when both names carry them; "/dev/null" becomes "".
void set_paths(FilePatch& f, std::string old_path, std::string new_path) {
  bool old_null = old_path == "/dev/null", new_null = new_path == "/dev/null";
  if ((old_null || old_path.starts_with("a/")) && (new_null || new_path.starts_with("b/"))) {
    if (!old_null) old_path.erase(0, 2);
    if (!new_null) new_path.erase(0, 2);
  }
  if (old_null) {
    f.created = true;
    old_path.clear();
  }
  if (new_null) {
    f.deleted = true;
    new_path.clear();
  }
  f.old_path = std::move(old_path);
  f.new_path = std::move(new_path);
}

bool parse_number(std::string_view& s, size_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return true;
}

// "-START[,COUNT]" or "+START[,COUNT]"; COUNT defaults to 1.
bool parse_range(std::string_view& s, char sign, size_t& start, size_t& count) {
  if (!s.starts_with(sign)) return false;
  s.remove_prefix(1);
  if (!parse_number(s, start)) return false;
  count = 1;
  if (s.starts_with(',')) {
    s.remove_prefix(1);
    if (!parse_number(s, count)) return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lines_(lines_of(text)) {}

  std::vector<FilePatch> run() {
    FilePatch* cur = nullptr;
    bool in_git_header = false;
    while (i_ < lines_.size()) {
      auto t = without_cr(lines_[i_]);
      const size_t no = i_ + 1;
      if (t.starts_with("diff --git ")) {
        cur = &files_.emplace_back();
        cur->git = true;
        auto [a, b] = git_header_paths(t.substr(11), no);
        set_paths(*cur, a, b);
        in_git_header = true;
        ++i_;
        continue;
      }
      if (starts_file_header(i_)) {
        if (!cur || !in_git_header) cur = &files_.emplace_back();
        bool created = cur->created, deleted = cur->deleted;
        set_paths(*cur, header_path(t.substr(4), no), header_path(lines_[i_ + 1].substr(4), no + 1));
        cur->created |= created;
        cur->deleted |= deleted;
        in_git_header = false;
        i_ += 2;
        continue;
      }
      if (t.starts_with("@@ ")) {
        if (!cur) fail(no, "hunk before any file header ('diff --git' or '--- ' and '+++ ' lines)");
        in_git_header = false;
        cur->hunks.push_back(hunk());
        continue;
      }
      if (in_git_header) git_header_line(*cur, t, no);
      ++i_;  // anything else (commit message, "index ..." lines) is not ours
    }
    if (files_.empty())
      throw ParseError(
          "no file header found: a patch needs 'diff --git a/PATH b/PATH' or '--- a/PATH' and "
          "'+++ b/PATH' lines before its '@@' hunks");
    for (auto& f : files_) {
      if (f.created) f.old_path.clear();
      if (f.deleted) f.new_path.clear();
      if (f.old_path.empty() && f.new_path.empty())
        throw ParseError("a file section names no path (both sides are /dev/null)");
    }
    return std::move(files_);
  }

 private:
  bool starts_file_header(size_t j) const {
    return lines_[j].starts_with("--- ") && j + 1 < lines_.size() &&
           lines_[j + 1].starts_with("+++ ");
  }

  void git_header_line(FilePatch& f, std::string_view t, size_t no) {
    auto path_after = [&](std::string_view prefix) {
      auto rest = t.substr(prefix.size());
      size_t used = 0;
      return rest.starts_with('"') ? unquote(rest, used, no) : std::string(rest);
    };
    if (t.starts_with("new file mode")) {
      f.created = true;
    } else if (t.starts_with("deleted file mode")) {
      f.deleted = true;
    } else if (t.starts_with("rename from ")) {
      f.old_path = path_after("rename from ");
    } else if (t.starts_with("rename to ")) {
      f.new_path = path_after("rename to ");
    } else if (t.starts_with("copy from ") || t.starts_with("copy to ")) {
      fail(no, "file copies are not supported; write the copy as a new file instead");
    } else if (t.starts_with("GIT binary patch") || t.starts_with("Binary files ")) {
      f.binary = true;
    }
  }

  Hunk hunk() {
    Hunk h;
    h.patch_line = i_ + 1;
    auto t = without_cr(lines_[i_]);
    h.header = std::string(t.substr(0, t.find("@@", 3) == std::string_view::npos
                                           ? t.size()
                                           : t.find("@@", 3) + 2));
    auto s = t.substr(3);
    bool ok = parse_range(s, '-', h.old_start, h.old_count) && s.starts_with(' ');
    if (ok) s.remove_prefix(1);
    ok = ok && parse_range(s, '+', h.new_start, h.new_count) && s.starts_with(" @@");
    if (!ok)
      fail(h.patch_line, "malformed hunk header '" + std::string(t) +
                             "'; expected '@@ -START,COUNT +START,COUNT @@'");
    ++i_;
    size_t old_left = h.old_count, new_left = h.new_count;
    while (i_ < lines_.size()) {
      auto line = lines_[i_];
      if (line.starts_with('\\')) {  // "\ No newline at end of file" for the line before
        if (!h.lines.empty() && h.lines.back().text.ends_with('\n')) h.lines.back().text.pop_back();
        ++i_;
        continue;
      }
      bool counted = old_left == 0 && new_left == 0;
      if (line.starts_with("@@") || line.starts_with("diff --git ") || starts_file_header(i_))
        break;
      if (counted && (line.empty() || line == "-- ")) break;  // "-- " ends a mailed patch
      char kind = line.empty() ? ' ' : line[0];  // a blank line is blank context
      if (kind != ' ' && kind != '-' && kind != '+') break;
      if (kind != '+') old_left > 0 ? --old_left : (h.counts_fixed = true, 0);
      if (kind != '-') new_left > 0 ? --new_left : (h.counts_fixed = true, 0);
      h.lines.push_back({kind, std::string(line.empty() ? line : line.substr(1)) + "\n"});
      ++i_;
    }
    if (old_left > 0 || new_left > 0) h.counts_fixed = true;
    if (h.counts_fixed) {
      h.old_count = h.new_count = 0;
      for (const auto& l : h.lines) {
        h.old_count += l.kind != '+';
        h.new_count += l.kind != '-';
      }
    }
    return h;
  }

  std::vector<std::string_view> lines_;
  std::vector<FilePatch> files_;
  size_t i_ = 0;
};

std::string with_crlf(const std::string& text) {
  if (!text.ends_with('\n')) return text;
  return text.substr(0, text.size() - 1) + "\r\n";
}

// The 0-based line before which a hunk's old lines start, as its header says.
long declared_start(const Hunk& h) {
  return static_cast<long>(h.old_count == 0 ? h.old_start : h.old_start - 1);
}

Applied apply_hunks(const FilePatch& file, std::string_view original, bool crlf) {
  const auto lines = split_lines(original);
  const long size = static_cast<long>(lines.size());
  Applied out;
  long pos = 0, offset = 0;
  for (size_t hi = 0; hi < file.hunks.size(); ++hi) {
    const Hunk& h = file.hunks[hi];
    std::vector<std::string> old_side, new_side;
    for (const auto& l : h.lines) {
      auto text = crlf ? with_crlf(l.text) : l.text;
      if (l.kind != '+') old_side.push_back(text);
      if (l.kind != '-') new_side.push_back(std::move(text));
    }
    const long k = static_cast<long>(old_side.size());
    auto matches_at = [&](long at) {
      long n = 0;
      for (long j = 0; j < k && at + j < size; ++j)
        n += lines[static_cast<size_t>(at + j)] == old_side[static_cast<size_t>(j)];
      return n;
    };
    const long expected = std::clamp(declared_start(h) + offset, pos, size);
    long found = -1;
    // Nearest place first, below then above, never before the previous hunk's end.
    for (long d = 0; found < 0; ++d) {
      bool below = expected + d + k <= size, above = d > 0 && expected - d >= pos;
      if (!below && !above) break;
      if (below && matches_at(expected + d) == k) found = expected + d;
      else if (above && matches_at(expected - d) == k) found = expected - d;
    }
    if (found < 0) {
      // Report the first difference where the hunk fits best.
      long best_at = expected, best = 0;
      for (long at = pos; at <= size; ++at) {
        long n = matches_at(at);
        if (n > best || (n == best && n > 0 && std::abs(at - expected) < std::abs(best_at - expected))) {
          best = n;
          best_at = at;
        }
      }
      long j = 0;
      while (j < k && best_at + j < size &&
             lines[static_cast<size_t>(best_at + j)] == old_side[static_cast<size_t>(j)])
        ++j;
      bool at_end = best_at + j >= size;
      throw Mismatch(hi, static_cast<size_t>(best_at + j + 1), old_side[static_cast<size_t>(j)],
                     at_end ? "" : std::string(lines[static_cast<size_t>(best_at + j)]), at_end);
    }
    offset = found - declared_start(h);
    out.offsets.push_back(offset);
    for (long x = pos; x < found; ++x) out.text += lines[static_cast<size_t>(x)];
    for (const auto& l : new_side) out.text += l;
    pos = found + k;
  }
  for (long x = pos; x < size; ++x) out.text += lines[static_cast<size_t>(x)];
  return out;
}

}  // namespace

Mismatch::Mismatch(size_t hunk_, size_t line_, std::string expected_, std::string found_,
                   bool at_end_)
    : std::runtime_error("hunk " + std::to_string(hunk_ + 1) + " does not apply at line " +
                         std::to_string(line_)),
      hunk(hunk_),
      line(line_),
      expected(std::move(expected_)),
      found(std::move(found_)),
      at_end(at_end_) {}

std::vector<FilePatch> parse(std::string_view text) { return Parser(text).run(); }

Applied apply(const FilePatch& file, std::string_view original) {
  try {
    return apply_hunks(file, original, false);
  } catch (const Mismatch&) {
    // Hunks written with "\n" for a file whose lines end in "\r\n": match them as CRLF.
    bool hunks_lf = std::none_of(file.hunks.begin(), file.hunks.end(), [](const Hunk& h) {
      return std::any_of(h.lines.begin(), h.lines.end(),
                         [](const HunkLine& l) { return l.text.find('\r') != std::string::npos; });
    });
    if (hunks_lf && original.find("\r\n") != std::string_view::npos) {
      try {
        Applied a = apply_hunks(file, original, true);
        a.crlf_adapted = true;
        return a;
      } catch (const Mismatch&) {
      }
    }
    throw;
  }
}

}  // namespace dsv4::tools::patch
