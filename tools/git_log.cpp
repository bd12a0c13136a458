// git_log: commits newest first, like `git log [REV] [-- PATH]`.
#include <nlohmann/json.hpp>

#include <cstring>
#include <queue>
#include <set>

#include "tools/builtin.hpp"
#include "tools/git_repo.hpp"

namespace dsv4::tools::git {
namespace {

struct OidLess {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_cmp(&a, &b) < 0; }
};

// Commits waiting to be visited, newest commit date first and, among equal dates, the
// one queued first, which is the order of git's default walk.
struct Pending {
  git_time_t time;
  size_t order;
  git_oid id;
  bool operator<(const Pending& o) const {
    return time != o.time ? time < o.time : order > o.order;
  }
};

// The id of what `path` holds in the commit's tree (a blob or a whole folder); zero if
// the path does not exist there.
git_oid entry_id(git_commit* commit, const std::string& path) {
  git_oid id{};
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, commit), "cannot read a commit's tree");
  TreePtr owned(tree);
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree, path.c_str()) == 0) {
    git_oid_cpy(&id, git_tree_entry_id(entry));
    git_tree_entry_free(entry);
  }
  return id;
}

CommitPtr lookup(const Repo& repo, const git_oid& id) {
  git_commit* commit = nullptr;
  check(git_commit_lookup(&commit, repo.get(), &id), "cannot read commit " + full_id(id));
  return CommitPtr(commit);
}

Json run(const Json& args, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  const size_t max = args.value("max", 20);
  const std::string path = repo.repo_path(args.value("path", ""));
  CommitPtr start;
  if (args.contains("rev")) {
    start = repo.resolve_commit(args["rev"].get<std::string>());
  } else if (!(start = repo.head_commit())) {
    return Json{{"commits", Json::array()}, {"note", "the repository has no commits yet"}};
  }

  std::priority_queue<Pending> pending;
  std::set<git_oid, OidLess> queued;
  size_t order = 0;
  auto enqueue = [&](git_commit* c) {
    if (queued.insert(*git_commit_id(c)).second)
      pending.push({git_commit_time(c), order++, *git_commit_id(c)});
  };
  enqueue(start.get());

  Json commits = Json::array();
  bool more = false;
  while (!pending.empty()) {
    auto commit = lookup(repo, pending.top().id);
    pending.pop();
    unsigned parent_count = git_commit_parentcount(commit.get());
    std::vector<CommitPtr> parents;
    for (unsigned i = 0; i < parent_count; ++i) {
      git_commit* parent = nullptr;
      check(git_commit_parent(&parent, commit.get(), i), "cannot read a parent commit");
      parents.emplace_back(parent);
    }
    bool shown = true;
    if (!path.empty()) {
      // git's default history simplification: a commit that leaves the path as one of its
      // parents had it is not shown, and only that parent's history is followed.
      git_oid mine = entry_id(commit.get(), path);
      shown = parent_count > 0 || !git_oid_is_zero(&mine);
      for (auto& parent : parents) {
        git_oid theirs = entry_id(parent.get(), path);
        if (git_oid_equal(&mine, &theirs)) {
          shown = false;
          enqueue(parent.get());
          parents.clear();
          break;
        }
      }
    }
    for (auto& parent : parents) enqueue(parent.get());
    if (!shown) continue;
    if (commits.size() == max) {
      more = true;
      break;
    }
    commits.push_back(commit_json(repo, commit.get(), true));
  }
  Json out{{"commits", std::move(commits)}};
  if (more)
    out["note"] = "more commits exist; raise `max` (up to 200) or start at an older `rev`";
  else if (out["commits"].empty() && !path.empty())
    out["note"] = "no commit touched '" + args.value("path", "") + "'";
  return out;
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

const Tool git_log{"git_log", R"({
  "type": "object",
  "properties": {
    "max": {"type": "integer", "minimum": 1, "maximum": 200},
    "path": {"type": "string"},
    "rev": {"type": "string", "minLength": 1, "maxLength": 256}
  },
  "additionalProperties": false
})", {.read_only = true}, git::run};

}  // namespace dsv4::tools::builtin
