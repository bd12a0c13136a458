// git_show: a commit with its patch, an annotated tag, a file at a revision (REV:PATH),
// or a folder listing, like `git show`.
#include <nlohmann/json.hpp>

#include "tools/builtin.hpp"
#include "tools/git_patch.hpp"

namespace dsv4::tools::git {
namespace {

Json show_commit(const Repo& repo, git_commit* commit) {
  Json out = commit_json(repo, commit, true);
  const git_signature* committer = git_commit_committer(commit);
  out["committer"] = signature_json(committer);
  Json parents = Json::array();
  for (unsigned i = 0; i < git_commit_parentcount(commit); ++i)
    parents.push_back(repo.short_id(*git_commit_parent_id(commit, i)));
  out["parents"] = parents;

  TreePtr old_tree, new_tree;
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, commit), "cannot read the commit's tree");
  new_tree.reset(tree);
  if (!parents.empty()) {
    git_commit* parent = nullptr;
    check(git_commit_parent(&parent, commit, 0), "cannot read the first parent");
    CommitPtr owned(parent);
    check(git_commit_tree(&tree, parent), "cannot read the parent's tree");
    old_tree.reset(tree);
  }
  auto pathspec = repo.workspace_pathspec();
  auto opts = diff_options(pathspec);
  git_diff* raw = nullptr;
  check(git_diff_tree_to_tree(&raw, repo.get(), old_tree.get(), new_tree.get(), &opts),
        "cannot diff the commit");
  DiffPtr diff(raw);
  out.update(render_diff(repo, diff.get()));
  if (parents.size() > 1)
    out["merge_note"] = "merge commit: the patch is against the first parent " +
                        parents[0].get<std::string>();
  return out;
}

Json show_blob(git_blob* blob) {
  auto size = static_cast<size_t>(git_blob_rawsize(blob));
  Json out{{"type", "blob"}, {"size", size}};
  if (git_blob_is_binary(blob)) {
    out["binary"] = true;
    out["note"] = "binary file, " + std::to_string(size) + " bytes; content not shown";
    return out;
  }
  std::string_view content(static_cast<const char*>(git_blob_rawcontent(blob)), size);
  std::string note;
  if (content.size() > kPatchBudget) {
    auto cut = content.rfind('\n', kPatchBudget);
    content = content.substr(0, cut == std::string_view::npos ? kPatchBudget : cut + 1);
    out["truncated"] = true;
    note = "showing the first " + std::to_string(content.size()) + " of " +
           std::to_string(size) + " bytes; read the file with the file tools to see a range. ";
  }
  bool replaced = false;
  out["content"] = utf8_text(content, &replaced);
  if (replaced) note += "Bytes that are not UTF-8 are shown as U+FFFD.";
  if (!note.empty()) out["note"] = note;
  return out;
}

Json show_tree(const Repo& repo, git_tree* tree) {
  Json entries = Json::array();
  for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree, i);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%06o", static_cast<unsigned>(git_tree_entry_filemode(e)));
    entries.push_back({{"mode", mode},
                       {"type", git_object_type2string(git_tree_entry_type(e))},
                       {"id", repo.short_id(*git_tree_entry_id(e))},
                       {"name", display_name(git_tree_entry_name(e))}});
  }
  return Json{{"type", "tree"}, {"entries", std::move(entries)}};
}

Json show(const Repo& repo, git_object* obj) {
  switch (git_object_type(obj)) {
    case GIT_OBJECT_COMMIT: {
      Json out = show_commit(repo, reinterpret_cast<git_commit*>(obj));
      out["type"] = "commit";
      return out;
    }
    case GIT_OBJECT_BLOB: return show_blob(reinterpret_cast<git_blob*>(obj));
    case GIT_OBJECT_TREE: return show_tree(repo, reinterpret_cast<git_tree*>(obj));
    case GIT_OBJECT_TAG: {
      auto* tag = reinterpret_cast<git_tag*>(obj);
      Json out{{"type", "tag"}, {"tag", utf8_text(git_tag_name(tag))},
               {"message", utf8_text(nonnull(git_tag_message(tag)))}};
      if (const git_signature* tagger = git_tag_tagger(tag)) out["tagger"] = signature_json(tagger);
      git_object* target = nullptr;
      check(git_tag_target(&target, tag), "cannot read the tag's target");
      ObjectPtr owned(target);
      out["target"] = show(repo, target);
      return out;
    }
    default: throw ToolError("cannot show an object of this type");
  }
}

Json run(const Json& args, ToolContext& ctx) {
  Repo repo(ctx.workspace);
  auto rev = args.value("rev", "HEAD");
  if (rev == "HEAD" && !repo.head_commit())
    throw ToolError("the repository has no commits yet; nothing to show");
  auto obj = repo.resolve(rev);
  Json out = show(repo, obj.get());
  out["rev"] = rev;
  return out;
}

}  // namespace
}  // namespace dsv4::tools::git

namespace dsv4::tools::builtin {

const Tool git_show{"git_show", R"({
  "type": "object",
  "properties": {
    "rev": {"type": "string", "minLength": 1, "maxLength": 1024}
  },
  "additionalProperties": false
})", {.read_only = true}, git::run};

}  // namespace dsv4::tools::builtin
