// apply_patch: a unified diff applied to the workspace, all files or none.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/file_access.hpp"
#include "tools/patch.hpp"
#include "tools/utf8_text.hpp"

namespace dsv4::tools::builtin {
namespace {

constexpr std::string_view kSchema = R"({
  "type": "object",
  "properties": {
    "patch": {"type": "string", "minLength": 1, "description": "unified diff as git diff writes it, one or more files"}
  },
  "required": ["patch"],
  "additionalProperties": false
})";

constexpr size_t kMaxFileBytes = 64 << 20;
constexpr std::string_view kNothingChanged = "nothing was changed: ";

// The new state of every touched file, written only once every hunk of every file fits.
class Staging {
 public:
  explicit Staging(const sandbox::Workspace& ws) : ws_(ws) {}

  // What the patch so far makes of `rel`; nothing when it does not exist.
  const std::optional<std::string>& current(const std::string& rel) {
    if (auto it = after_.find(rel); it != after_.end()) return it->second;
    if (auto it = before_.find(rel); it != before_.end()) return it->second;
    struct ::stat st {};
    std::optional<std::string> content;
    if (ws_.stat(rel, st)) content = read_whole_file(ws_, rel, kMaxFileBytes);
    return before_.emplace(rel, std::move(content)).first->second;
  }

  void set(const std::string& rel, std::optional<std::string> content) {
    current(rel);
    if (!after_.contains(rel)) order_.push_back(rel);
    after_[rel] = std::move(content);
  }

  // Writes every staged file; when one write fails, puts back those already written.
  void commit() {
    size_t done = 0;
    try {
      for (; done < order_.size(); ++done) put(order_[done], after_.at(order_[done]));
    } catch (...) {
      for (size_t i = 0; i < done; ++i) {
        try {
          put(order_[i], before_.at(order_[i]));
        } catch (...) {
          // Best effort: the first failure is the one to report.
        }
      }
      throw;
    }
  }

 private:
  void put(const std::string& rel, const std::optional<std::string>& content) {
    struct ::stat st {};
    if (content)
      ws_.write_atomic(rel, *content);
    else if (ws_.stat(rel, st))
      ws_.remove_file(rel);
  }

  const sandbox::Workspace& ws_;
  std::map<std::string, std::optional<std::string>> before_, after_;
  std::vector<std::string> order_;
};

// A file line for messages: no line break, "\r" visible, valid UTF-8, not too long.
std::string quoted_line(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  std::string out;
  for (char c : line.substr(0, 200)) out += c == '\r' ? std::string("\\r") : std::string(1, c);
  return "\"" + escape_invalid_utf8(out) + (line.size() > 200 ? "...\"" : "\"");
}

bool same_but_blanks(std::string_view a, std::string_view b) {
  auto squeeze = [](std::string_view s) {
    std::string out;
    for (char c : s)
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
    return out;
  };
  return squeeze(a) == squeeze(b);
}

[[noreturn]] void hunk_failed(const std::string& shown, const patch::FilePatch& f, const patch::Mismatch& m) {
  const auto& h = f.hunks[m.hunk];
  std::string msg = std::string(kNothingChanged) + "'" + shown + "': hunk " + std::to_string(m.hunk + 1) + " of " +
                    std::to_string(f.hunks.size()) + " (" + escape_invalid_utf8(h.header) + ", patch line " +
                    std::to_string(h.patch_line) + ") does not apply. At the closest place, line " +
                    std::to_string(m.line) + " should be " + quoted_line(m.expected);
  if (m.at_end)
    msg += " but the file ends before it";
  else
    msg += " but is " + quoted_line(m.found) +
           (same_but_blanks(m.expected, m.found) ? " (they differ only in whitespace)" : "");
  msg += ". Read the file around that line and write the hunk from its current text.";
  throw ToolError(msg);
}

Json run(const Json& args, ToolContext& ctx) {
  const auto& ws = ctx.workspace;
  std::vector<patch::FilePatch> files;
  try {
    files = patch::parse(args.at("patch").get_ref<const std::string&>());
  } catch (const patch::ParseError& e) {
    throw ToolError(std::string(kNothingChanged) + "the patch cannot be read: " + escape_invalid_utf8(e.what()));
  }

  Staging staging(ws);
  Json summary = Json::array();
  size_t created = 0, deleted = 0, modified = 0, renamed = 0;
  for (auto& f : files) {
    if (f.binary)
      throw ToolError(std::string(kNothingChanged) + "'" + shown_path(ws, f.path()) +
                      "' has a binary patch, which apply_patch cannot apply; use a command instead");
    // `target`: the existing file the hunks apply to; `dst`: where the result goes.
    std::string target = f.created ? "" : ws.relative(f.old_path);
    std::string dst = f.deleted ? "" : ws.relative(f.new_path);
    if (!f.created && !f.deleted && !f.renamed()) {
      // A plain "diff -u old new" names two files but patches one: the new name if it exists.
      if (target != dst && !staging.current(dst)) dst = target;
      target = dst;
    }
    const std::string shown = shown_path(ws, f.created ? dst : target);

    if (f.created && staging.current(dst))
      throw ToolError(std::string(kNothingChanged) + "'" + shown + "' already exists, but the patch creates it");
    if (!f.created && !staging.current(target))
      throw ToolError(std::string(kNothingChanged) + "'" + shown + "' does not exist, but the patch changes it");
    if (f.renamed() && staging.current(dst))
      throw ToolError(std::string(kNothingChanged) + "'" + shown_path(ws, dst) +
                      "' already exists, but the patch renames '" + shown + "' to it");

    patch::Applied applied;
    try {
      applied = patch::apply(f, f.created ? std::string() : *staging.current(target));
    } catch (const patch::Mismatch& m) {
      hunk_failed(shown, f, m);
    }

    Json entry{{"path", shown_path(ws, f.deleted ? target : dst)}};
    if (f.deleted) {
      if (!applied.text.empty())
        throw ToolError(std::string(kNothingChanged) + "the patch deletes '" + shown +
                        "' but does not remove all of its lines (" + std::to_string(applied.text.size()) +
                        " bytes remain); the file may have changed since the diff was made");
      staging.set(target, std::nullopt);
      entry["status"] = "deleted";
      ++deleted;
    } else if (f.renamed()) {
      staging.set(target, std::nullopt);
      staging.set(dst, std::move(applied.text));
      entry["status"] = "renamed";
      entry["from"] = shown;
      ++renamed;
    } else {
      staging.set(dst, std::move(applied.text));
      entry["status"] = f.created ? "created" : "modified";
      ++(f.created ? created : modified);
    }
    size_t added = 0, removed = 0;
    for (const auto& h : f.hunks)
      for (const auto& l : h.lines) {
        added += l.kind == '+';
        removed += l.kind == '-';
      }
    entry["added"] = added;
    entry["removed"] = removed;
    std::vector<std::string> notes;
    for (size_t i = 0; i < f.hunks.size(); ++i) {
      if (applied.offsets[i] != 0)
        notes.push_back("hunk " + std::to_string(i + 1) + " applied " + std::to_string(std::abs(applied.offsets[i])) +
                        " lines " + (applied.offsets[i] > 0 ? "below" : "above") + " where its header said");
      if (f.hunks[i].counts_fixed)
        notes.push_back("hunk " + std::to_string(i + 1) + " has other line counts than its header " +
                        escape_invalid_utf8(f.hunks[i].header) + "; applied as its lines say");
    }
    if (applied.crlf_adapted) notes.push_back("the file's lines end in \\r\\n; the hunks were matched and written that way");
    if (!notes.empty()) entry["notes"] = notes;
    summary.push_back(std::move(entry));
  }
  staging.commit();

  std::string text = std::to_string(files.size()) + (files.size() == 1 ? " file" : " files") + " changed:";
  auto part = [&](size_t n, const char* what) {
    if (n) text += " " + std::to_string(n) + " " + what + ",";
  };
  part(modified, "modified");
  part(created, "created");
  part(deleted, "deleted");
  part(renamed, "renamed");
  text.pop_back();
  return Json{{"files", std::move(summary)}, {"summary", text}};
}

}  // namespace

const Tool apply_patch{"apply_patch", kSchema, {.read_only = false, .destructive = true, .idempotent = false}, run};

}  // namespace dsv4::tools::builtin
