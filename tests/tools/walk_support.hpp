#pragma once
// Helpers shared by the walk, list and search tests: building trees and collecting
// what the walker and the reference tools (git, rg) see in them.
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tools/walk.hpp"

namespace dsv4::test {

// Creates every path: "x/" a folder, "x -> target" a symlink, anything else a file
// whose content is its own path.
void make_tree(const std::filesystem::path& root, const std::vector<std::string>& paths);

// Files (and symlinks) the walker reports below `root` with `options`.
std::set<std::string> walked_files(const std::filesystem::path& root,
                                   const tools::WalkOptions& options);

// Splits NUL-separated output (git -z, rg --null) into a set.
std::set<std::string> split_nul(std::string_view text);

// git ls-files --others --exclude-standard: the untracked files git does not ignore.
std::set<std::string> git_untracked(const std::filesystem::path& repo);

// rg --files: what ripgrep would search, with no user or global configuration.
std::set<std::string> rg_files(const std::filesystem::path& root, const std::string& flags = "");

}  // namespace dsv4::test
