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

[[noreturn]] void refuse(const std::string& why) { throw ToolError("nothing was changed: " + why); }

[[noreturn]] void hunk_failed(const std::string& shown, const patch::FilePatch& f,
                              const patch::Mismatch& m) {
  const auto& h = f.hunks[m.hunk];
  std::string msg = "'" + shown + "': hunk " + std::to_string(m.hunk + 1) + " of " +
                    std::to_string(f.hunks.size()) + " (" + escape_invalid_utf8(h.header) +
                    ", patch line " + std::to_string(h.patch_line) +
                    ") does not apply. At the closest place, line " + std::to_string(m.line) +
                    " should be " + quoted_line(m.expected);
  if (m.at_end)
    msg += " but the file ends before it";
  else
    msg += " but is " + quoted_line(m.found) +
           (same_but_blanks(m.expected, m.found) ? " (they differ only in whitespace)" : "");
  refuse(msg + ". Read the file around that line and write the hunk from its current text.");
}

// What the model should know about how a file's hunks were applied.
std::vector<std::string> notes_on(const patch::FilePatch& f, const patch::Applied& applied) {
  std::vector<std::string> notes;
  for (size_t i = 0; i < f.hunks.size(); ++i) {
    const auto hunk = "hunk " + std::to_string(i + 1);
    if (long off = applied.offsets[i]; off != 0)
      notes.push_back(hunk + " applied " + std::to_string(std::abs(off)) + " lines " +
                      (off > 0 ? "below" : "above") + " where its header said");
    if (f.hunks[i].counts_fixed)
      notes.push_back(hunk + " has other line counts than its header " +
                      escape_invalid_utf8(f.hunks[i].header) + "; applied as its lines say");
  }
  if (!f.new_mode.empty() && f.new_mode != "100644")
    notes.push_back("the patch sets mode " + escape_invalid_utf8(f.new_mode) +
                    ", which apply_patch does not apply; change permissions with a command");
  if (applied.line_ends_adapted)
    notes.push_back(
        "the hunks' line ends differ from the file's; they were matched and written with the "
        "file's");
  return notes;
}

// Applies one file section to the staged state; returns its summary entry.
Json stage(const sandbox::Workspace& ws, Staging& staging, const patch::FilePatch& f) {
  if (f.binary)
    refuse("'" + shown_path(ws, f.path()) +
           "' has a binary patch, which apply_patch cannot apply; use a command instead");
  // `target`: the existing file the hunks apply to; `dst`: where the result goes.
  std::string target = f.created ? "" : ws.relative(decoded_path(ws, f.old_path));
  std::string dst = f.deleted ? "" : ws.relative(decoded_path(ws, f.new_path));
  if (!f.created && !f.deleted && !f.renamed()) {
    // A plain "diff -u old new" names two files but patches one: the new name if it exists.
    if (target != dst && !staging.current(dst)) dst = target;
    target = dst;
  }
  const std::string shown = shown_path(ws, f.created ? dst : target);
  if (f.created && staging.current(dst))
    refuse("'" + shown + "' already exists, but the patch creates it");
  if (!f.created && !staging.current(target))
    refuse("'" + shown + "' does not exist, but the patch changes it");
  if (f.renamed() && staging.current(dst))
    refuse("'" + shown_path(ws, dst) + "' already exists, but the patch renames '" + shown +
           "' to it");

  patch::Applied applied;
  try {
    applied = patch::apply(f, f.created ? std::string() : *staging.current(target));
  } catch (const patch::Mismatch& m) {
    hunk_failed(shown, f, m);
  }
  Json entry{{"path", shown_path(ws, f.deleted ? target : dst)}};
  if (f.deleted) {
    if (!applied.text.empty())
      refuse("the patch deletes '" + shown + "' but does not remove all of its lines (" +
             std::to_string(applied.text.size()) +
             " bytes remain); the file may have changed since the diff was made");
    entry["status"] = "deleted";
  } else {
    entry["status"] = f.renamed() ? "renamed" : f.created ? "created" : "modified";
    if (f.renamed()) entry["from"] = shown;
  }
  size_t added = 0, removed = 0;
  for (const auto& h : f.hunks)
    for (const auto& l : h.lines) {
      added += l.kind == '+';
      removed += l.kind == '-';
    }
  entry["added"] = added;
  entry["removed"] = removed;
  if (auto notes = notes_on(f, applied); !notes.empty()) entry["notes"] = notes;

  if (f.deleted || f.renamed()) staging.set(target, std::nullopt);
  if (!f.deleted) staging.set(dst, std::move(applied.text));
  return entry;
}

Json run(const Json& args, ToolContext& ctx) {
  std::vector<patch::FilePatch> files;
  try {
    files = patch::parse(args.at("patch").get_ref<const std::string&>());
  } catch (const patch::ParseError& e) {
    refuse("the patch cannot be read: " + escape_invalid_utf8(e.what()));
  }
  Staging staging(ctx.workspace);
  Json entries = Json::array();
  std::map<std::string, size_t> counts;
  for (const auto& f : files) {
    entries.push_back(stage(ctx.workspace, staging, f));
    ++counts[entries.back()["status"].get<std::string>()];
  }
  staging.commit();

  std::string summary =
      std::to_string(files.size()) + (files.size() == 1 ? " file" : " files") + " changed:";
  const char* sep = " ";
  for (const char* status : {"modified", "created", "deleted", "renamed"})
    if (counts[status]) {
      summary += sep + std::to_string(counts[status]) + " " + status;
      sep = ", ";
    }
  return Json{{"files", std::move(entries)}, {"summary", summary}};
}

}  // namespace

const Tool apply_patch{
    "apply_patch", kSchema, {.read_only = false, .destructive = true, .idempotent = false}, run};

}  // namespace dsv4::tools::builtin
