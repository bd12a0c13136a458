// git_status: branch, upstream and the changed files with `git status --porcelain` codes.
#include <nlohmann/json.hpp>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/git_repo.hpp"

namespace dsv4::tools::git {
namespace {

constexpr size_t kMaxEntries = 1000;

// The two-letter code of an unmerged path, from which stages the index holds (git's
// wt-status table: 1 = common ancestor, 2 = ours, 4 = theirs).
std::string conflict_code(git_index* index, const char* path) {
  const git_index_entry *ancestor = nullptr, *ours = nullptr, *theirs = nullptr;
  if (git_index_conflict_get(&ancestor, &ours, &theirs, index, path) < 0) return "UU";
  int stages = (ancestor ? 1 : 0) | (ours ? 2 : 0) | (theirs ? 4 : 0);
  static const char* const kCodes[] = {"UU", "DD", "AU", "UD", "UA", "DU", "AA", "UU"};
  return kCodes[stages];
}

char index_code(unsigned s) {
  if (s & GIT_STATUS_INDEX_NEW) return 'A';
  if (s & GIT_STATUS_INDEX_MODIFIED) return 'M';
  if (s & GIT_STATUS_INDEX_DELETED) return 'D';
  if (s & GIT_STATUS_INDEX_RENAMED) return 'R';
  if (s & GIT_STATUS_INDEX_TYPECHANGE) return 'T';
  return ' ';
}

char workdir_code(unsigned s) {
  if (s & GIT_STATUS_WT_MODIFIED) return 'M';
  if (s & GIT_STATUS_WT_DELETED) return 'D';
  if (s & GIT_STATUS_WT_TYPECHANGE) return 'T';
  if (s & GIT_STATUS_WT_RENAMED) return 'R';
  return ' ';
}

const char* state_name(int state) {
  switch (state) {
    case GIT_REPOSITORY_STATE_MERGE: return "merge";
    case GIT_REPOSITORY_STATE_REVERT:
    case GIT_REPOSITORY_STATE_REVERT_SEQUENCE: return "revert";
    case GIT_REPOSITORY_STATE_CHERRYPICK:
    case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE: return "cherry-pick";
    case GIT_REPOSITORY_STATE_BISECT: return "bisect";
    case GIT_REPOSITORY_STATE_REBASE:
    case GIT_REPOSITORY_STATE_REBASE_INTERACTIVE:
    case GIT_REPOSITORY_STATE_REBASE_MERGE: return "rebase";
    case GIT_REPOSITORY_STATE_APPLY_MAILBOX:
    case GIT_REPOSITORY_STATE_APPLY_MAILBOX_OR_REBASE: return "am";
    default: return nullptr;
  }
}

// branch / detached / head / upstream / ahead / behind.
void describe_head(const Repo& repo, Json& out) {
  git_reference* raw = nullptr;
  int rc = git_repository_head(&raw, repo.get());
  RefPtr head(raw);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
    git_reference* symbolic = nullptr;
    check(git_reference_lookup(&symbolic, repo.get(), "HEAD"), "cannot read HEAD");
    RefPtr owned(symbolic);
    std::string target = nonnull(git_reference_symbolic_target(symbolic));
    out["branch"] = target.starts_with("refs/heads/") ? target.substr(11) : target;
    out["head"] = nullptr;
    out["note"] = "no commits yet";
    return;
  }
  check(rc, "cannot read HEAD");
  auto commit = repo.head_commit();
  out["head"] = repo.short_id(*git_commit_id(commit.get()));
  out["subject"] = utf8_text(nonnull(git_commit_summary(commit.get())));
  if (git_repository_head_detached(repo.get()) == 1) {
    out["branch"] = nullptr;
    out["detached"] = true;
    return;
  }
  out["branch"] = git_reference_shorthand(head.get());
  git_reference* upstream_raw = nullptr;
  if (git_branch_upstream(&upstream_raw, head.get()) != 0) return;
  RefPtr upstream(upstream_raw);
  out["upstream"] = git_reference_shorthand(upstream.get());
  const git_oid* local = git_reference_target(head.get());
  const git_oid* remote = git_reference_target(upstream.get());
  size_t ahead = 0, behind = 0;
  if (local && remote &&
      git_graph_ahead_behind(&ahead, &behind, repo.get(), local, remote) == 0) {
    out["ahead"] = ahead;
    out["behind"] = behind;
  }
}

Json run(const Json&, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  Json out = Json::object();
  describe_head(repo, out);
  if (const char* state = state_name(git_repository_state(repo.get()))) out["state"] = state;

  auto pathspec = repo.workspace_pathspec();
  git_status_options opts;
  git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX |
               GIT_STATUS_OPT_SORT_CASE_SENSITIVELY | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
  opts.pathspec = pathspec.strarray();
  git_status_list* raw = nullptr;
  check(git_status_list_new(&raw, repo.get(), &opts), "cannot compute the status");
  StatusListPtr list(raw);
  auto index = repo.index();

  Json files = Json::array();
  size_t count = git_status_list_entrycount(list.get());
  size_t listed = 0;
  for (size_t i = 0; i < count; ++i) {
    const git_status_entry* e = git_status_byindex(list.get(), i);
    unsigned s = e->status;
    if (s == GIT_STATUS_CURRENT || (s & GIT_STATUS_IGNORED)) continue;
    const git_diff_delta* staged = e->head_to_index;
    const git_diff_delta* delta = staged ? staged : e->index_to_workdir;
    Json entry;
    const char* path = delta->new_file.path;
    if (s & GIT_STATUS_CONFLICTED) {
      entry["status"] = conflict_code(index.get(), path);
    } else if ((s & GIT_STATUS_WT_NEW) && !staged) {
      entry["status"] = "??";
    } else {
      entry["status"] = std::string{index_code(s), workdir_code(s)};
    }
    entry["path"] = repo.shown_path(path);
    if (staged && staged->status == GIT_DELTA_RENAMED)
      entry["from"] = repo.shown_path(staged->old_file.path);
    if (++listed <= kMaxEntries) files.push_back(std::move(entry));
  }
  out["clean"] = listed == 0;
  out["files"] = std::move(files);
  if (listed > kMaxEntries)
    out["note"] = "showing " + std::to_string(kMaxEntries) + " of " + std::to_string(listed) +
                  " changed paths; use git_diff with `paths` to look at a part";
  return out;
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

const Tool git_status{"git_status", R"({
  "type": "object",
  "properties": {},
  "additionalProperties": false
})", {.read_only = true}, git::run};

}  // namespace dsv4::tools::builtin
