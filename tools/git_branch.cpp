// git_branch: lists, creates and switches local branches, like `git branch` and a safe
// `git switch` that never discards local changes.
#include <nlohmann/json.hpp>

#include "tools/builtin.hpp"
#include "tools/git_repo.hpp"

namespace dsv4::tools::git {
namespace {

Json list(const Repo& repo) {
  git_branch_iterator* raw = nullptr;
  check(git_branch_iterator_new(&raw, repo.get(), GIT_BRANCH_LOCAL), "cannot list branches");
  BranchIterPtr it(raw);
  Json branches = Json::array();
  git_reference* ref_raw = nullptr;
  git_branch_t type;
  while (git_branch_next(&ref_raw, &type, it.get()) == 0) {
    RefPtr ref(ref_raw);
    const char* name = nullptr;
    check(git_branch_name(&name, ref.get()), "cannot read a branch name");
    Json b{{"name", display_name(name)}, {"current", git_branch_is_head(ref.get()) == 1}};
    git_object* target = nullptr;
    if (git_reference_peel(&target, ref.get(), GIT_OBJECT_COMMIT) == 0) {
      ObjectPtr owned(target);
      auto* commit = reinterpret_cast<git_commit*>(target);
      b["commit"] = repo.short_id(*git_commit_id(commit));
      b["subject"] = utf8_text(nonnull(git_commit_summary(commit)));
    }
    git_reference* upstream = nullptr;
    if (git_branch_upstream(&upstream, ref.get()) == 0) {
      RefPtr owned(upstream);
      b["upstream"] = git_reference_shorthand(upstream);
    }
    branches.push_back(std::move(b));
  }
  std::sort(branches.begin(), branches.end(),
            [](const Json& a, const Json& b) { return a["name"] < b["name"]; });
  Json out{{"branches", std::move(branches)}};
  if (git_repository_head_detached(repo.get()) == 1) {
    if (auto head = repo.head_commit())
      out["note"] = "HEAD is detached at " + repo.short_id(*git_commit_id(head.get()));
  } else if (git_repository_head_unborn(repo.get()) == 1) {
    out["note"] = "no commits yet, so no branch exists; the first commit creates the current one";
  }
  return out;
}

void require_valid(const std::string& name) {
  int valid = 0;
  check(git_branch_name_is_valid(&valid, name.c_str()), "cannot check the branch name");
  if (!valid)
    throw ToolError("'" + name + "' is not a valid branch name (no spaces, '..', '~', '^', ':', "
                    "'?', '*', '[', leading '-' or trailing '.lock')");
}

CommitPtr start_commit(const Repo& repo, const Json& args) {
  if (args.contains("start_point")) return repo.resolve_commit(args["start_point"].get<std::string>());
  auto head = repo.head_commit();
  if (!head) throw ToolError("the repository has no commits yet; commit first, then branch");
  return head;
}

RefPtr create(const Repo& repo, const std::string& name, git_commit* at) {
  git_reference* raw = nullptr;
  int rc = git_branch_create(&raw, repo.get(), name.c_str(), at, 0);
  if (rc == GIT_EEXISTS)
    throw ToolError("a branch named '" + name + "' already exists; switch to it with "
                    "action \"switch\" or choose another name");
  check(rc, "cannot create branch '" + name + "'");
  return RefPtr(raw);
}

struct Conflicts {
  const Repo& repo;
  std::vector<std::string> paths;
};

int note_conflict(git_checkout_notify_t, const char* path, const git_diff_file*,
                  const git_diff_file*, const git_diff_file*, void* payload) {
  auto& c = *static_cast<Conflicts*>(payload);
  if (c.paths.size() < 20) c.paths.push_back(c.repo.shown_path(path));
  return 0;
}

// Updates the work tree and index to `commit`, refusing (changing nothing) where a local
// change would be lost.
void safe_checkout(const Repo& repo, git_commit* commit, const std::string& name) {
  Conflicts conflicts{repo, {}};
  git_checkout_options opts;
  git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
  opts.checkout_strategy = GIT_CHECKOUT_SAFE;
  opts.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
  opts.notify_cb = note_conflict;
  opts.notify_payload = &conflicts;
  int rc = git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(commit), &opts);
  if (rc == GIT_ECONFLICT || !conflicts.paths.empty()) {
    std::string list;
    for (const auto& p : conflicts.paths) list += (list.empty() ? "" : ", ") + p;
    throw ToolError("switching to '" + name + "' would overwrite local changes" +
                    (list.empty() ? "" : " in " + list) +
                    "; nothing was changed. Commit those changes (git_commit) first, or ask "
                    "the user what to do with them");
  }
  check(rc, "cannot check out '" + name + "'");
}

Json switch_to(const Repo& repo, const std::string& name, const Json& args) {
  if (!repo.prefix().empty())
    throw ToolError("the repository's work tree is larger than the workspace (the workspace is "
                    "its folder '" + repo.prefix() + "'); switching branches would change files "
                    "outside the workspace, so it is refused");
  RefPtr branch;
  CommitPtr target;
  if (args.contains("start_point")) {
    require_valid(name);
    target = start_commit(repo, args);
    git_reference* existing = nullptr;
    if (git_branch_lookup(&existing, repo.get(), name.c_str(), GIT_BRANCH_LOCAL) == 0) {
      git_reference_free(existing);
      throw ToolError("a branch named '" + name + "' already exists; switch to it without "
                      "start_point");
    }
  } else {
    git_reference* raw = nullptr;
    int rc = git_branch_lookup(&raw, repo.get(), name.c_str(), GIT_BRANCH_LOCAL);
    branch.reset(raw);
    if (rc == GIT_ENOTFOUND)
      throw ToolError("no local branch named '" + name + "'; list them with action \"list\", "
                      "or create it here with a start_point (e.g. \"HEAD\" or \"origin/" + name +
                      "\")");
    check(rc, "cannot find branch '" + name + "'");
    if (git_branch_is_head(branch.get()) == 1)
      return Json{{"branch", name}, {"note", "already on '" + name + "'"}};
    git_object* commit = nullptr;
    check(git_reference_peel(&commit, branch.get(), GIT_OBJECT_COMMIT),
          "branch '" + name + "' does not point at a commit");
    target.reset(reinterpret_cast<git_commit*>(commit));
  }
  safe_checkout(repo, target.get(), name);
  if (!branch) branch = create(repo, name, target.get());
  check(git_repository_set_head(repo.get(), git_reference_name(branch.get())),
        "checked out the files, but cannot point HEAD at '" + name + "'");
  return Json{{"branch", name}, {"commit", repo.short_id(*git_commit_id(target.get()))}};
}

Json run(const Json& args, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  auto action = args["action"].get<std::string>();
  if (action == "list") return list(repo);
  if (!args.contains("name")) throw ToolError("action \"" + action + "\" needs a branch `name`");
  auto name = args["name"].get<std::string>();
  if (action == "create") {
    require_valid(name);
    auto at = start_commit(repo, args);
    create(repo, name, at.get());
    return Json{{"branch", name}, {"commit", repo.short_id(*git_commit_id(at.get()))},
                {"note", "created; HEAD is unchanged (use action \"switch\" to work on it)"}};
  }
  return switch_to(repo, name, args);
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

const Tool git_branch{"git_branch", R"({
  "type": "object",
  "properties": {
    "action": {"type": "string", "enum": ["list", "create", "switch"]},
    "name": {"type": "string", "minLength": 1, "maxLength": 256},
    "start_point": {"type": "string", "minLength": 1, "maxLength": 256}
  },
  "required": ["action"],
  "additionalProperties": false
})", {.read_only = false, .destructive = false, .idempotent = false}, git::run};

}  // namespace dsv4::tools::builtin
