// git_blame: which commit last changed each line of a file, like `git blame`, including
// lines changed in the work tree and not committed yet.
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/git_repo.hpp"

namespace dsv4::tools::git {
namespace {

constexpr size_t kMaxLines = 800;
constexpr size_t kMaxFileBytes = 16 << 20;

// The work tree's version of the file, or nothing when it is gone.
std::optional<std::string> read_work_tree(const sandbox::Workspace& ws, const std::string& path) {
  struct ::stat st {};
  if (!ws.stat(path, st)) return std::nullopt;
  if (S_ISDIR(st.st_mode)) throw ToolError("'" + path + "' is a folder; blame a file in it");
  auto fd = ws.open_read(path);
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    throw ToolError("'" + path + "' is not a regular file");
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes)
    throw ToolError("'" + path + "' is " + std::to_string(st.st_size) +
                    " bytes, too large to blame (limit " + std::to_string(kMaxFileBytes) + ")");
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot read '" + path + "'");
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  return content;
}

std::string committed_content(const Repo& repo, git_commit* head, const std::string& repo_path) {
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, head), "cannot read HEAD's tree");
  TreePtr owned_tree(tree);
  git_tree_entry* entry = nullptr;
  check(git_tree_entry_bypath(&entry, tree, repo_path.c_str()), "cannot find the file in HEAD");
  git_object* blob = nullptr;
  int rc = git_tree_entry_to_object(&blob, repo.get(), entry);
  git_tree_entry_free(entry);
  check(rc, "cannot read the file from HEAD");
  BlobPtr owned(reinterpret_cast<git_blob*>(blob));
  return std::string(static_cast<const char*>(git_blob_rawcontent(owned.get())),
                     static_cast<size_t>(git_blob_rawsize(owned.get())));
}

bool in_tree(git_commit* commit, const std::string& path) {
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, commit), "cannot read HEAD's tree");
  TreePtr owned(tree);
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree, path.c_str()) != 0) return false;
  bool blob = git_tree_entry_type(entry) == GIT_OBJECT_BLOB;
  git_tree_entry_free(entry);
  return blob;
}

Json run(const Json& args, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  const auto shown = args["path"].get<std::string>();
  const auto path = repo.repo_path(shown);
  if (path.empty() || path + "/" == repo.prefix())
    throw ToolError("give the path of a file to blame, not the workspace root");
  auto head = repo.head_commit();
  if (!head) throw ToolError("the repository has no commits yet; every line is uncommitted");
  if (!in_tree(head.get(), path))
    throw ToolError("'" + shown + "' is not a file in HEAD (new and not committed yet, or a "
                    "folder); git_status shows new files");

  git_blame_options opts;
  git_blame_options_init(&opts, GIT_BLAME_OPTIONS_VERSION);
  git_blame* raw = nullptr;
  check(git_blame_file(&raw, repo.get(), path.c_str(), &opts), "cannot blame '" + shown + "'");
  BlamePtr blame(raw);
  std::string note;
  auto content = read_work_tree(ctx.workspace, repo.root_relative(path));
  if (content) {
    check(git_blame_buffer(&raw, blame.get(), content->data(), content->size()),
          "cannot blame the work tree's version of '" + shown + "'");
    blame.reset(raw);
  } else {
    content = committed_content(repo, head.get(), path);
    note = "the file is deleted in the work tree; showing HEAD's version. ";
  }

  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < content->size();) {
    auto end = content->find('\n', pos);
    if (end == std::string::npos) end = content->size();
    lines.emplace_back(content->data() + pos, end - pos);
    pos = end + 1;
  }
  const size_t total = lines.size();
  const size_t start = args.value("start_line", 1);
  if (total == 0) return Json{{"path", shown}, {"lines", Json::array()}, {"note", "the file is empty"}};
  if (start > total)
    throw ToolError("start_line " + std::to_string(start) + " is past the end of '" + shown +
                    "', which has " + std::to_string(total) + " lines");
  size_t end = std::min<size_t>(args.value("end_line", total), total);
  if (end < start) throw ToolError("end_line is before start_line");
  if (end - start + 1 > kMaxLines) {
    end = start + kMaxLines - 1;
    note += "showing lines " + std::to_string(start) + "-" + std::to_string(end) + " of " +
            std::to_string(total) + "; ask for the rest with start_line/end_line. ";
  }

  Json out_lines = Json::array();
  Json commits = Json::object();
  bool replaced = false;
  for (size_t n = start; n <= end; ++n) {
    const git_blame_hunk* hunk = git_blame_get_hunk_byline(blame.get(), n);
    std::string commit = "uncommitted";
    if (hunk && !git_oid_is_zero(&hunk->final_commit_id)) {
      commit = repo.short_id(hunk->final_commit_id);
      if (!commits.contains(commit)) {
        git_commit* c = nullptr;
        check(git_commit_lookup(&c, repo.get(), &hunk->final_commit_id), "cannot read a commit");
        CommitPtr owned(c);
        Json info = commit_json(repo, c, false);
        info.erase("short");
        commits[commit] = std::move(info);
      }
    }
    auto text = lines[n - 1];
    if (text.ends_with('\r')) text.remove_suffix(1);
    out_lines.push_back({{"line", n}, {"commit", commit}, {"text", utf8_text(text, &replaced)}});
  }
  Json out{{"path", shown}, {"lines", std::move(out_lines)}, {"commits", std::move(commits)}};
  if (replaced) note += "Bytes that are not UTF-8 are shown as U+FFFD.";
  if (!note.empty()) out["note"] = note;
  return out;
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

// The name hides libgit2's type of the same name inside this namespace only.
const Tool git_blame{"git_blame", R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1},
    "start_line": {"type": "integer", "minimum": 1},
    "end_line": {"type": "integer", "minimum": 1}
  },
  "required": ["path"],
  "additionalProperties": false
})", {.read_only = true}, git::run};

}  // namespace dsv4::tools::builtin
