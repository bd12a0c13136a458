// read_file: a page of a text file as numbered lines, like `cat -n`.
#include <nlohmann/json.hpp>

#include <cstring>
#include <vector>

#include "sandbox/workspace.hpp"
#include "tools/binary_sniff.hpp"
#include "tools/builtin.hpp"
#include "tools/file_access.hpp"
#include "tools/utf8_text.hpp"

namespace dsv4::tools::builtin {
namespace {

constexpr std::string_view kSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "file to read, relative to the workspace root"},
    "offset": {"type": "integer", "minimum": 1, "description": "first line to show (1-based); default 1"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 100000, "description": "most lines to show; default 2000"}
  },
  "required": ["path"],
  "additionalProperties": false
})";

constexpr size_t kDefaultLimit = 2000;
// A page stays well inside the registry's result cap, counted as JSON-escaped bytes.
constexpr size_t kPageBytes = 96 * 1024;
// Longer lines (minified code, data) are cut; the page says so.
constexpr size_t kMaxLineBytes = 4000;
constexpr size_t kChunkBytes = 1 << 20;

// Size of `s` once written inside a JSON string.
size_t json_size(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    bool short_escape = c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' ||
                        c == '\f';
    n += short_escape ? 2 : c < 0x20 ? 6 : 1;
  }
  return n;
}

// Collects the requested lines while the whole file streams past in chunks, counting
// every line and how lines end.
class Pager {
 public:
  Pager(size_t first, size_t limit) : first_(first), limit_(limit) {}

  void feed(std::string_view chunk) {
    while (!chunk.empty()) {
      const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
      size_t end =
          nl ? static_cast<size_t>(static_cast<const char*>(nl) - chunk.data()) : chunk.size();
      auto piece = chunk.substr(0, end);
      if (wanted() && line_.size() <= kMaxLineBytes)
        line_.append(piece.substr(0, kMaxLineBytes + 1 - line_.size()));
      if (!piece.empty()) last_byte_ = piece.back();
      line_bytes_ += piece.size();
      if (!nl) return;
      end_line(true);
      chunk.remove_prefix(end + 1);
    }
  }

  void finish() {
    if (line_bytes_ > 0) end_line(false);
  }

  size_t total_lines() const { return number_; }
  size_t last_shown() const { return last_shown_; }
  bool final_newline() const { return final_newline_; }
  bool escaped() const { return escaped_; }
  const std::string& content() const { return content_; }
  const std::vector<std::pair<size_t, size_t>>& cut_lines() const { return cut_; }
  std::string_view endings() const {
    return crlf_ && lf_ ? "mixed" : crlf_ ? "crlf" : lf_ ? "lf" : "none";
  }

 private:
  bool wanted() const { return !full_ && number_ + 1 >= first_ && number_ + 1 < first_ + limit_; }

  void end_line(bool newline) {
    const bool want = wanted();
    ++number_;
    bool cr = newline && line_bytes_ > 0 && last_byte_ == '\r';
    (cr ? crlf_ : lf_) |= newline;
    final_newline_ = newline;
    if (want) show(cr);
    line_.clear();
    line_bytes_ = 0;
  }

  void show(bool cr) {
    std::string_view text = line_;
    if (line_bytes_ > kMaxLineBytes) {
      size_t keep = kMaxLineBytes;
      // Cut before a UTF-8 sequence, not inside it.
      while (keep > kMaxLineBytes - 4 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80)
        --keep;
      text = text.substr(0, keep);
      cut_.emplace_back(number_, line_bytes_);
    } else if (cr) {
      text.remove_suffix(1);
    }
    std::string shown = escape_invalid_utf8(text);
    escaped_ |= shown.size() != text.size();
    std::string number = std::to_string(number_);
    std::string row =
        std::string(number.size() < 6 ? 6 - number.size() : 0, ' ') + number + "\t" + shown;
    if (line_bytes_ > kMaxLineBytes)
      row += " [... line cut: " + std::to_string(line_bytes_) + " bytes in all]";
    row += "\n";
    size_t row_size = json_size(row);
    if (last_shown_ > 0 && page_size_ + row_size > kPageBytes) {
      full_ = true;
      return;
    }
    content_ += row;
    page_size_ += row_size;
    last_shown_ = number_;
  }

  const size_t first_, limit_;
  size_t number_ = 0;      // lines completed so far
  std::string line_;       // the current line's first bytes, while it is wanted
  size_t line_bytes_ = 0;  // the current line's full length
  char last_byte_ = 0;
  bool crlf_ = false, lf_ = false, final_newline_ = false, escaped_ = false, full_ = false;
  std::string content_;
  size_t page_size_ = 0, last_shown_ = 0;
  std::vector<std::pair<size_t, size_t>> cut_;  // (line, length) of lines shown cut
};

Json run(const Json& args, ToolContext& ctx) {
  const auto path = decoded_path(ctx.workspace, args.at("path").get<std::string>());
  const size_t first = args.value("offset", size_t{1});
  const size_t limit = args.value("limit", kDefaultLimit);
  const std::string shown = shown_path(ctx.workspace, path);

  struct ::stat st {};
  sandbox::Fd fd = open_regular_file(ctx.workspace, path, st);
  std::string buffer(kChunkBytes, '\0');
  size_t got = read_fully(fd.get(), buffer.data(), buffer.size());
  if (auto kind = binary_kind(std::string_view(buffer).substr(0, got)))
    throw ToolError("'" + shown + "' is a binary file (" + *kind + ", " +
                    std::to_string(st.st_size) + " bytes); read_file shows text only");
  Pager pager(first, limit);
  while (got > 0) {
    if (ctx.stop.stop_requested()) throw ToolError("read_file of '" + shown + "' was cancelled");
    pager.feed(std::string_view(buffer).substr(0, got));
    got = read_fully(fd.get(), buffer.data(), buffer.size());
  }
  pager.finish();

  const size_t total = pager.total_lines();
  if (first > total && first > 1)
    throw ToolError("offset " + std::to_string(first) + " is past the end of '" + shown +
                    "', which has " + std::to_string(total) + " lines; use an offset from 1 to " +
                    std::to_string(std::max<size_t>(total, 1)));

  Json result{{"path", shown},
              {"content", pager.content()},
              {"total_lines", total},
              {"size_bytes", st.st_size}};
  std::vector<std::string> notes;
  if (total == 0) {
    notes.push_back("the file is empty");
  } else {
    result["first_line"] = first;
    result["last_line"] = pager.last_shown();
    result["line_endings"] = pager.endings();
    result["final_newline"] = pager.final_newline();
    bool more = pager.last_shown() < total;
    result["more"] = more;
    if (more) {
      result["next_offset"] = pager.last_shown() + 1;
      notes.push_back("showing lines " + std::to_string(first) + "-" +
                      std::to_string(pager.last_shown()) + " of " + std::to_string(total) +
                      "; call read_file with offset " + std::to_string(pager.last_shown() + 1) +
                      " for more");
    }
  }
  if (pager.endings() == "crlf" || pager.endings() == "mixed")
    notes.push_back(
        "lines ending in \\r\\n are shown without the \\r; edit_file keeps each file's line "
        "endings");
  if (total > 0 && !pager.final_newline()) notes.push_back("the file does not end with a newline");
  if (pager.escaped()) notes.push_back("bytes that are not valid UTF-8 are shown as \\xNN");
  for (auto [line, length] : pager.cut_lines())
    notes.push_back("line " + std::to_string(line) + " is " + std::to_string(length) +
                    " bytes long; only its first " + std::to_string(kMaxLineBytes) +
                    " bytes are shown");
  if (!notes.empty()) result["notes"] = notes;
  return result;
}

// The result's shape, for MCP clients (outputSchema).
constexpr std::string_view kResultSchema = R"json({
  "type": "object",
  "properties": {
    "ok": {"type": "boolean"},
    "path": {"type": "string"},
    "content": {"type": "string"},
    "first_line": {"type": "integer"},
    "last_line": {"type": "integer"},
    "total_lines": {"type": "integer"},
    "more": {"type": "boolean"},
    "next_offset": {"type": "integer"},
    "line_endings": {"type": "string"},
    "final_newline": {"type": "boolean"},
    "size_bytes": {"type": "integer"},
    "notes": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["ok", "path", "content", "total_lines"]
})json";

}  // namespace

const Tool read_file{"read_file", kSchema, {.read_only = true}, run, kResultSchema};

}  // namespace dsv4::tools::builtin
