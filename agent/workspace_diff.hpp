#pragma once
// The change a run made to a git workspace: the files (tracked and untracked, minus ignored
// ones and .dsv4) are recorded as a git tree at the start and at the end, through a
// temporary index so that the user's index and HEAD stay untouched, and diffed.
#include <filesystem>
#include <optional>
#include <string>

namespace dsv4::agent {

// The tree id of the workspace's files now; nullopt when `root` is not in a git work tree.
std::optional<std::string> snapshot_tree(const std::filesystem::path& root);
// `git diff` from tree `before` to tree `after`.
std::string diff_trees(const std::filesystem::path& root, const std::string& before,
                       const std::string& after);

}  // namespace dsv4::agent
