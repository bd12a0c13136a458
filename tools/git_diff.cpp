// git_diff: unified patch text like `git diff`, `git diff --cached` and `git diff REV`.
#include <nlohmann/json.hpp>

#include "tools/builtin.hpp"
#include "tools/git_patch.hpp"

namespace dsv4::tools::git {
namespace {

Json run(const Json& args, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  bool staged = args.value("staged", false);
  Pathspec pathspec;
  if (args.contains("paths") && !args["paths"].empty()) {
    for (const auto& p : args["paths"]) pathspec.add(repo.repo_path(p.get<std::string>()));
  } else {
    pathspec = repo.workspace_pathspec();
  }
  auto opts = diff_options(pathspec);

  TreePtr base_tree;
  std::string compared;
  if (args.contains("base")) {
    auto base = args["base"].get<std::string>();
    auto commit = repo.resolve_commit(base);
    git_tree* tree = nullptr;
    check(git_commit_tree(&tree, commit.get()), "cannot read the tree of " + base);
    base_tree.reset(tree);
    compared = base + (staged ? " -> index (staged)" : " -> work tree");
  } else if (staged) {
    if (auto head = repo.head_commit()) {
      git_tree* tree = nullptr;
      check(git_commit_tree(&tree, head.get()), "cannot read the tree of HEAD");
      base_tree.reset(tree);
    }
    compared = "HEAD -> index (staged)";
  } else {
    compared = "index -> work tree (unstaged)";
  }

  git_diff* raw = nullptr;
  if (staged) {
    check(git_diff_tree_to_index(&raw, repo.get(), base_tree.get(), nullptr, &opts),
          "cannot diff the index");
  } else if (base_tree) {
    check(git_diff_tree_to_workdir_with_index(&raw, repo.get(), base_tree.get(), &opts),
          "cannot diff the work tree");
  } else {
    check(git_diff_index_to_workdir(&raw, repo.get(), nullptr, &opts), "cannot diff the work tree");
  }
  DiffPtr diff(raw);
  Json out = render_diff(repo, diff.get());
  out["compared"] = compared;
  if (out["files"].empty() && !out.contains("note"))
    out["note"] = staged ? "nothing staged; git_diff without `staged` shows unstaged changes"
                         : "no differences; untracked files are not shown (see git_status)";
  return out;
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

// The name hides libgit2's type of the same name inside this namespace only.
const Tool git_diff{"git_diff", R"({
  "type": "object",
  "properties": {
    "staged": {"type": "boolean"},
    "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100},
    "base": {"type": "string", "minLength": 1, "maxLength": 256}
  },
  "additionalProperties": false
})", {.read_only = true}, git::run};

}  // namespace dsv4::tools::builtin
