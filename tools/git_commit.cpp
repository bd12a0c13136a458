// git_commit: records a commit, like `git commit -m MESSAGE [-- PATHS]`.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/git_patch.hpp"

namespace dsv4::tools::git {
namespace {

bool under(std::string_view path, const std::vector<std::string>& specs) {
  for (const auto& s : specs)
    if (s.empty() || path == s || (path.starts_with(s) && path[s.size()] == '/')) return true;
  return false;
}

// True when the index or HEAD knows `path` (as a file or as a folder of files).
bool tracked(git_index* index, const std::string& path) {
  size_t pos = 0;
  if (git_index_find_prefix(&pos, index, path.c_str()) != 0) return false;
  std::string_view found = git_index_get_byindex(index, pos)->path;
  return found == path || (found.starts_with(path) && found[path.size()] == '/');
}

// Stages exactly `paths` (new, changed and deleted files under them) in `index`.
void stage(const Repo& repo, git_index* index, const std::vector<std::string>& paths,
           const Json& shown) {
  Pathspec spec;
  const bool everything = std::find(paths.begin(), paths.end(), "") != paths.end();
  for (size_t i = 0; i < paths.size() && !everything; ++i) {
    struct ::stat st {};
    if (!repo.workspace().stat(repo.root_relative(paths[i]), st) && !tracked(index, paths[i]))
      throw ToolError("'" + shown[i].get<std::string>() +
                      "' matches no file: it is not in the work tree and not tracked");
    spec.add(paths[i]);
  }
  auto array = spec.strarray();
  int rc = git_index_add_all(index, &array,
                             GIT_INDEX_ADD_DISABLE_PATHSPEC_MATCH | GIT_INDEX_ADD_CHECK_PATHSPEC,
                             nullptr, nullptr);
  if (rc == GIT_EINVALIDSPEC)
    throw ToolError("a path given is ignored by .gitignore; leave it out, or ask the user to "
                    "track it (" + std::string(git_error_last()->message) + ")");
  check(rc, "cannot stage the paths");
  check(git_index_update_all(index, &array, nullptr, nullptr), "cannot stage removed files");
}

// The tree HEAD would have with only `paths` taken from `index` (git commit --only).
git_oid only_tree(const Repo& repo, git_index* index, git_tree* head_tree,
                  const std::vector<std::string>& paths) {
  git_index* raw = nullptr;
  check(git_index_new(&raw), "cannot create an index");
  IndexPtr temp(raw);
  if (head_tree) check(git_index_read_tree(temp.get(), head_tree), "cannot read HEAD's tree");
  std::vector<std::string> gone;
  for (size_t i = 0; i < git_index_entrycount(temp.get()); ++i) {
    const git_index_entry* e = git_index_get_byindex(temp.get(), i);
    if (under(e->path, paths) && !git_index_get_bypath(index, e->path, 0)) gone.push_back(e->path);
  }
  for (const auto& p : gone) check(git_index_remove(temp.get(), p.c_str(), 0), "cannot unstage");
  for (size_t i = 0; i < git_index_entrycount(index); ++i) {
    const git_index_entry* e = git_index_get_byindex(index, i);
    if (GIT_INDEX_ENTRY_STAGE(e) == 0 && under(e->path, paths))
      check(git_index_add(temp.get(), e), "cannot stage '" + std::string(e->path) + "'");
  }
  git_oid tree;
  check(git_index_write_tree_to(&tree, temp.get(), repo.get()), "cannot write the tree");
  return tree;
}

std::string conflicted_paths(const Repo& repo, git_index* index) {
  std::string list;
  for (size_t i = 0; i < git_index_entrycount(index); ++i) {
    const git_index_entry* e = git_index_get_byindex(index, i);
    if (GIT_INDEX_ENTRY_STAGE(e) == 0) continue;
    auto shown = repo.shown_path(e->path);
    if (!list.ends_with(shown)) list += (list.empty() ? "" : ", ") + shown;
  }
  return list;
}

Json changed_files(const Repo& repo, git_tree* before, git_tree* after) {
  Pathspec none;
  auto opts = diff_options(none);
  git_diff* raw = nullptr;
  check(git_diff_tree_to_tree(&raw, repo.get(), before, after, &opts), "cannot diff the commit");
  DiffPtr diff(raw);
  git_diff_find_options find;
  git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
  find.flags = GIT_DIFF_FIND_RENAMES;
  check(git_diff_find_similar(diff.get(), &find), "cannot detect renames");
  Json files = Json::array();
  for (size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    Json f{{"status", std::string(1, git_diff_status_char(d->status))},
           {"path", repo.shown_path(d->new_file.path)}};
    if (d->status == GIT_DELTA_RENAMED) f["from"] = repo.shown_path(d->old_file.path);
    files.push_back(std::move(f));
  }
  return files;
}

Json run(const Json& args, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  Buf message;
  check(git_message_prettify(&message.buf, args["message"].get<std::string>().c_str(), 0, '#'),
        "cannot clean up the message");
  if (message.view().find_first_not_of(" \t\n") == std::string_view::npos)
    throw ToolError("the commit message is empty; give a one-line summary of the change");

  git_signature* sig_raw = nullptr;
  int rc = git_signature_default(&sig_raw, repo.get());
  SignaturePtr sig(sig_raw);
  if (rc == GIT_ENOTFOUND)
    throw ToolError("no committer identity: user.name and user.email are not set in the git "
                    "configuration; ask the user to run `git config user.name \"Name\"` and "
                    "`git config user.email \"address\"` (nothing was committed)");
  check(rc, "cannot read the committer identity");

  auto head = repo.head_commit();
  TreePtr head_tree;
  if (head) {
    git_tree* tree = nullptr;
    check(git_commit_tree(&tree, head.get()), "cannot read HEAD's tree");
    head_tree.reset(tree);
  }
  auto index = repo.index();
  const bool merging = git_repository_state(repo.get()) == GIT_REPOSITORY_STATE_MERGE;

  git_oid tree_id;
  const bool with_paths = args.contains("paths") && !args["paths"].empty();
  if (with_paths) {
    std::vector<std::string> paths;
    for (const auto& p : args["paths"]) paths.push_back(repo.repo_path(p.get<std::string>()));
    if (merging)
      throw ToolError("a merge is in progress: commit all of it at once (stage the resolved "
                      "files, then git_commit without `paths`)");
    stage(repo, index.get(), paths, args["paths"]);
    tree_id = only_tree(repo, index.get(), head_tree.get(), paths);
  } else {
    if (git_index_has_conflicts(index.get()))
      throw ToolError("unresolved merge conflicts in " + conflicted_paths(repo, index.get()) +
                      "; edit them to resolve, then commit them with `paths`");
    check(git_index_write_tree(&tree_id, index.get()), "cannot write the index as a tree");
  }
  git_tree* tree_raw = nullptr;
  check(git_tree_lookup(&tree_raw, repo.get(), &tree_id), "cannot read the new tree");
  TreePtr tree(tree_raw);
  const bool unchanged = head ? git_oid_equal(&tree_id, git_tree_id(head_tree.get()))
                              : git_tree_entrycount(tree.get()) == 0;
  if (unchanged && !merging)
    throw ToolError(with_paths
                        ? "nothing to commit: the given paths have no changes against HEAD"
                        : "nothing staged to commit; pass `paths` to commit those files (new, "
                          "changed or deleted; git_status lists them)");
  std::vector<CommitPtr> parents;
  if (head) parents.push_back(std::move(head));
  if (merging) {
    auto add_merge_head = [](const git_oid* id, void* payload) {
      auto& p = *static_cast<std::pair<const Repo*, std::vector<CommitPtr>*>*>(payload);
      git_commit* c = nullptr;
      if (git_commit_lookup(&c, p.first->get(), id) < 0) return -1;
      p.second->emplace_back(c);
      return 0;
    };
    std::pair<const Repo*, std::vector<CommitPtr>*> payload{&repo, &parents};
    check(git_repository_mergehead_foreach(repo.get(), add_merge_head, &payload),
          "cannot read MERGE_HEAD");
  }
  std::vector<const git_commit*> parent_ptrs;
  for (auto& p : parents) parent_ptrs.push_back(p.get());

  git_oid id;
  check(git_commit_create(&id, repo.get(), "HEAD", sig.get(), sig.get(), nullptr,
                          std::string(message.view()).c_str(), tree.get(), parent_ptrs.size(),
                          parent_ptrs.data()),
        "cannot create the commit");
  if (with_paths) check(git_index_write(index.get()), "committed, but cannot write the index");
  if (merging) check(git_repository_state_cleanup(repo.get()), "cannot end the merge state");

  git_commit* created = nullptr;
  check(git_commit_lookup(&created, repo.get(), &id), "cannot read the new commit");
  CommitPtr commit(created);
  Json out{{"commit", full_id(id)},
           {"short", repo.short_id(id)},
           {"summary", utf8_text(nonnull(git_commit_summary(commit.get())))},
           {"files", changed_files(repo, head_tree.get(), tree.get())}};
  if (parents.empty()) out["note"] = "first commit of the repository";
  if (parents.size() > 1) out["note"] = "merge commit";
  return out;
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

// The name hides libgit2's type of the same name inside this namespace only.
const Tool git_commit{"git_commit", R"({
  "type": "object",
  "properties": {
    "message": {"type": "string", "minLength": 1},
    "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 1000}
  },
  "required": ["message"],
  "additionalProperties": false
})", {.read_only = false, .destructive = false, .idempotent = false}, git::run};

}  // namespace dsv4::tools::builtin
