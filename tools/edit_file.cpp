// edit_file: replace an exact piece of a file, answering with the unified diff.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "sandbox/workspace.hpp"
#include "tools/binary_sniff.hpp"
#include "tools/builtin.hpp"
#include "tools/closest_match.hpp"
#include "tools/file_access.hpp"
#include "tools/text_lines.hpp"
#include "tools/unified_diff.hpp"
#include "tools/utf8_text.hpp"

namespace dsv4::tools::builtin {
namespace {

constexpr std::string_view kSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "file to change, relative to the workspace root"},
    "old_string": {"type": "string", "minLength": 1, "description": "exact text to replace, including indentation"},
    "new_string": {"type": "string", "description": "text to put in its place"},
    "replace_all": {"type": "boolean", "description": "replace every occurrence instead of requiring exactly one"}
  },
  "required": ["path", "old_string", "new_string"],
  "additionalProperties": false
})";

constexpr size_t kMaxFileBytes = 64 << 20;
constexpr size_t kMaxDiffBytes = 48 * 1024;
constexpr size_t kMaxShownLines = 40;

// Bare "\n" as "\r\n"; existing "\r\n" stays.
std::string to_crlf(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

std::string to_lf(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

// The (old, new) pairs to look for, best first: the model writes "\n" whatever the file
// uses, so a CRLF file is searched with CRLF text and gets CRLF text back.
std::vector<std::pair<std::string, std::string>> spellings(std::string_view content, const std::string& old_text,
                                                           const std::string& new_text) {
  std::vector<std::pair<std::string, std::string>> out{{old_text, new_text}};
  auto endings = line_endings(content);
  if (endings == LineEndings::crlf || endings == LineEndings::mixed) {
    std::pair<std::string, std::string> crlf{to_crlf(old_text), to_crlf(new_text)};
    if (crlf.first != old_text) out.insert(endings == LineEndings::crlf ? out.begin() : out.end(), crlf);
    else if (endings == LineEndings::crlf) out.front().second = crlf.second;
  } else if (old_text.find("\r\n") != std::string::npos) {
    out.emplace_back(to_lf(old_text), to_lf(new_text));
  }
  return out;
}

// Start offsets of the non-overlapping occurrences of `needle`.
std::vector<size_t> occurrences(std::string_view text, std::string_view needle) {
  std::vector<size_t> at;
  for (size_t p = text.find(needle); p != std::string_view::npos; p = text.find(needle, p + needle.size()))
    at.push_back(p);
  return at;
}

// Lines first..last of `text` as read_file shows them, for error messages.
std::string numbered(std::string_view text, size_t first, size_t last) {
  auto lines = split_lines(text);
  std::string out;
  for (size_t n = first; n <= last && n <= lines.size() && n < first + kMaxShownLines; ++n) {
    auto line = lines[n - 1];
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.size() > 300) line = line.substr(0, 300);
    auto num = std::to_string(n);
    out += std::string(num.size() < 6 ? 6 - num.size() : 0, ' ') + num + "\t" + escape_invalid_utf8(line) + "\n";
  }
  return out;
}

// Whether every line of `s` starts like read_file's numbering ("    12\t").
bool has_line_numbers(std::string_view s) {
  auto lines = split_lines(s);
  return !lines.empty() && std::all_of(lines.begin(), lines.end(), [](std::string_view l) {
    size_t i = l.find_first_not_of(' ');
    size_t d = i == std::string_view::npos ? i : l.find_first_not_of("0123456789", i);
    return d != std::string_view::npos && d > i && l[d] == '\t';
  });
}

[[noreturn]] void not_found(const std::string& shown, std::string_view content, const std::string& old_text) {
  std::string msg = "old_string was not found in '" + shown + "'.";
  if (has_line_numbers(old_text))
    msg += " It starts its lines with line numbers as read_file shows them; send only the text after the tab.";
  if (auto m = closest_match(content, old_text)) {
    msg += " The closest lines are " + std::to_string(m->first_line) + "-" + std::to_string(m->last_line) + ":\n" +
           numbered(content, m->first_line, m->last_line);
    if (m->whitespace_only)
      msg += "They differ from old_string only in whitespace (indentation, spaces or tabs, line ends); copy them exactly.";
    else
      msg += "Copy the exact text from the file (read_file shows it) and try again.";
  } else {
    msg += " No similar lines either; read the file again with read_file.";
  }
  throw ToolError(msg);
}

std::string line_list(std::string_view content, const std::vector<size_t>& at) {
  std::string out;
  size_t line = 1, pos = 0;
  for (size_t i = 0; i < at.size() && i < 20; ++i) {
    line += static_cast<size_t>(std::count(content.begin() + static_cast<long>(pos), content.begin() + static_cast<long>(at[i]), '\n'));
    pos = at[i];
    out += (i ? ", " : "") + std::to_string(line);
  }
  if (at.size() > 20) out += ", ...";
  return out;
}

Json run(const Json& args, ToolContext& ctx) {
  const auto path = args.at("path").get<std::string>();
  const auto& old_text = args.at("old_string").get_ref<const std::string&>();
  const auto& new_text = args.at("new_string").get_ref<const std::string&>();
  const bool replace_all = args.value("replace_all", false);
  const std::string shown = shown_path(ctx.workspace, path);
  if (old_text == new_text) throw ToolError("old_string and new_string are the same; nothing would change");

  const std::string content = read_whole_file(ctx.workspace, path, kMaxFileBytes);
  if (auto kind = binary_kind(content))
    throw ToolError("'" + shown + "' is a binary file (" + *kind + "); edit_file changes text files only");

  std::vector<size_t> at;
  std::string from, to;
  for (auto& [o, n] : spellings(content, old_text, new_text)) {
    at = occurrences(content, o);
    if (!at.empty()) {
      from = std::move(o);
      to = std::move(n);
      break;
    }
  }
  if (at.empty()) not_found(shown, content, old_text);
  if (at.size() > 1 && !replace_all)
    throw ToolError("old_string occurs " + std::to_string(at.size()) + " times in '" + shown + "' (at lines " +
                    line_list(content, at) +
                    "); include more surrounding lines to pick one, or set replace_all to change them all");

  std::string updated;
  updated.reserve(content.size() + at.size() * to.size());
  size_t pos = 0;
  for (size_t p : at) {
    updated.append(content, pos, p - pos).append(to);
    pos = p + from.size();
  }
  updated.append(content, pos);
  ctx.workspace.write_atomic(path, updated);

  const std::string rel = ctx.workspace.relative(path);
  std::string diff = escape_invalid_utf8(unified_diff(content, updated, "a/" + rel, "b/" + rel));
  Json result{{"path", shown}, {"replacements", at.size()}};
  if (diff.size() > kMaxDiffBytes) {
    // Cut after a whole line when there is one, else before a UTF-8 sequence.
    size_t keep = diff.rfind('\n', kMaxDiffBytes);
    if (keep == std::string::npos) {
      keep = kMaxDiffBytes;
      while (keep > 0 && (static_cast<unsigned char>(diff[keep]) & 0xC0) == 0x80) --keep;
    } else {
      ++keep;
    }
    result["diff_truncated"] = true;
    result["note"] = "diff cut after " + std::to_string(keep) + " of " + std::to_string(diff.size()) +
                     " bytes; read_file shows the result";
    diff.resize(keep);
  }
  result["diff"] = diff;
  if (from != old_text) result["line_endings"] = to_string(line_endings(content));
  return result;
}

}  // namespace

const Tool edit_file{"edit_file", kSchema, {.read_only = false, .destructive = true, .idempotent = false}, run};

}  // namespace dsv4::tools::builtin
