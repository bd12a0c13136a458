#pragma once
// A libgit2 diff as the model sees it: per-file summary plus unified patch text like
// `git diff`, cut to a budget with a note that says how to see the rest.
#include <cstddef>

#include "tools/git_repo.hpp"

namespace dsv4::tools::git {

inline constexpr size_t kPatchBudget = 64 * 1024;

// Diff options every git tool uses: git's defaults, `pathspec` taken literally.
git_diff_options diff_options(Pathspec& pathspec);

// Detects renames like git, then returns {"files": [{path, status, from?, additions,
// deletions, binary?}], "patch": text, "truncated"?, "note"?}.
Json render_diff(const Repo& repo, git_diff* diff, size_t budget = kPatchBudget);

}  // namespace dsv4::tools::git
