#pragma once
// Shared by the file tool tests: calling a tool in a folder, and snapshots of a tree.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace dsv4::test {

// Runs the registered tool `name` with `args` in a workspace rooted at `root`. Fails the
// test when the result is not strict UTF-8 JSON (what a client would receive).
nlohmann::json call(const std::filesystem::path& root, std::string_view name,
                    const nlohmann::json& args);

// The error text of a failed call, or "" when it succeeded.
std::string error_of(const nlohmann::json& result);

// Every file below `dir` (".git" excluded) by relative path: its bytes, "-> target" for
// symlinks, "<dir>" for folders; plus its permission bits after a '|' for files.
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir);

// `text` written to a file named `name` inside `dir`, returned as its path.
std::filesystem::path put(const std::filesystem::path& dir, std::string_view name,
                          std::string_view text);

}  // namespace dsv4::test
