#pragma once
// The git tools' common ground: owned libgit2 handles, libgit2 errors as ToolErrors, and the
// repository seen from the workspace (discovery, path mapping, revisions, text for JSON).
// Private to tools/git_*.cpp, which is why it may include <git2.h>.
#include <git2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/tool.hpp"

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::tools::git {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using BlamePtr = Ptr<git_blame, git_blame_free>;
using BlobPtr = Ptr<git_blob, git_blob_free>;
using BranchIterPtr = Ptr<git_branch_iterator, git_branch_iterator_free>;
using CommitPtr = Ptr<git_commit, git_commit_free>;
using ConfigPtr = Ptr<git_config, git_config_free>;
using DiffPtr = Ptr<git_diff, git_diff_free>;
using IndexPtr = Ptr<git_index, git_index_free>;
using ObjectPtr = Ptr<git_object, git_object_free>;
using PatchPtr = Ptr<git_patch, git_patch_free>;
using RefPtr = Ptr<git_reference, git_reference_free>;
using RepoPtr = Ptr<git_repository, git_repository_free>;
using SignaturePtr = Ptr<git_signature, git_signature_free>;
using StatusListPtr = Ptr<git_status_list, git_status_list_free>;
using TagPtr = Ptr<git_tag, git_tag_free>;
using TreePtr = Ptr<git_tree, git_tree_free>;

// A git_buf that frees itself.
struct Buf {
  git_buf buf = GIT_BUF_INIT;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&buf); }
  std::string_view view() const { return {buf.ptr ? buf.ptr : "", buf.size}; }
};

// Throws ToolError("<what>: <libgit2's message>") when `rc` is a libgit2 failure.
void check(int rc, std::string_view what);

// Paths handed to libgit2 as literal paths (no glob): a folder matches what is under it.
class Pathspec {
 public:
  void add(std::string path) { paths_.push_back(std::move(path)); }
  bool empty() const { return paths_.empty(); }
  // Valid while this object lives and is not changed.
  git_strarray strarray();

 private:
  std::vector<std::string> paths_;
  std::vector<char*> pointers_;
};

class Repo {
 public:
  // Discovers the repository like git does: at the workspace root or the nearest folder
  // above it. The tools still report and accept only paths inside the workspace.
  explicit Repo(const sandbox::Workspace& workspace);

  git_repository* get() const { return repo_.get(); }
  const sandbox::Workspace& workspace() const { return workspace_; }
  // The workspace root relative to the work tree: "" or "some/dir/".
  const std::string& prefix() const { return prefix_; }

  // The model's path (root-relative or absolute in the workspace, or git-quoted when the
  // name is not UTF-8) as a work-tree-relative path; refuses paths outside the workspace.
  std::string repo_path(std::string_view model_path) const;
  // A work-tree-relative path as the model sees it: relative to the workspace root, and
  // git-quoted ("na\377me") when it is not valid UTF-8.
  std::string shown_path(std::string_view repo_path) const;
  bool in_workspace(std::string_view repo_path) const;
  // A work-tree-relative path inside the workspace as the workspace's own relative path.
  std::string root_relative(std::string_view repo_path) const;
  // What limits a whole-repository operation to the workspace: nothing, or the prefix.
  Pathspec workspace_pathspec() const;

  // nullptr when HEAD is unborn (no commit yet).
  CommitPtr head_commit() const;
  // The object `rev` names (anything git rev-parse accepts; a `rev:path` path is relative
  // to the workspace root); ToolError with a hint when it names nothing.
  ObjectPtr resolve(std::string_view rev) const;
  CommitPtr resolve_commit(std::string_view rev) const;
  IndexPtr index() const;

  // The abbreviated id git would print (at least 7 hex digits, unique in the repository).
  std::string short_id(const git_oid& id) const;

 private:
  const sandbox::Workspace& workspace_;
  RepoPtr repo_;
  std::string prefix_;
};

inline const char* nonnull(const char* text) { return text ? text : ""; }
std::string full_id(const git_oid& id);
// "2024-05-01T12:30:00+02:00" like git's %aI.
std::string iso_time(const git_time& when);
// `bytes` as valid UTF-8 for JSON: invalid bytes become U+FFFD; `replaced` is set if any did.
std::string utf8_text(std::string_view bytes, bool* replaced = nullptr);
bool is_utf8(std::string_view bytes);
// A file name as shown to the model: itself, or git-quoted ("na\377me") if not UTF-8.
std::string display_name(std::string_view name);
// {"name", "email", "date"} of a signature.
Json signature_json(const git_signature* sig);
// {"id", "short", "author", "email", "date", "subject", "body"?} of a commit (author date).
Json commit_json(const Repo& repo, git_commit* commit, bool with_body);

}  // namespace dsv4::tools::git
