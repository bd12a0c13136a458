#pragma once
// A real git repository in a temporary folder, built with the git CLI, and the git tools
// called on it through the registry, so that tests can compare the two.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace dsv4::test {

class GitRepo {
 public:
  // `init`: run `git init -b main` and configure an identity in the repository.
  explicit GitRepo(bool init = true);

  const std::filesystem::path& path() const { return dir_.path(); }
  const TempDir& dir() const { return dir_; }
  void write(std::string_view rel, std::string_view content) const { dir_.write(rel, content); }
  std::string read(std::string_view rel) const { return dir_.read(rel); }

  // Runs `git ARGS` (a bash command line tail) in `sub`; throws if git fails. Each call gets
  // a later author and committer date, so that history order never depends on ties.
  std::string git(const std::string& args, const std::string& sub = "");
  // Like git() but returns the exit code instead of throwing.
  int git_status_code(const std::string& args);
  // Sets the file's modification time to a fixed second in the past (plus `fraction`,
  // e.g. ".5").
  void sh_touch(const std::string& rel, const std::string& fraction = "");
  // Commits everything in the work tree with `message`; returns the new commit id.
  std::string commit_all(const std::string& message);

  // Calls the tool with a workspace rooted at path()/root.
  nlohmann::json tool(std::string_view name, const nlohmann::json& args,
                      const std::string& root = "") const;

 private:
  TempDir dir_;
  int clock_ = 0;
};

// `git status --porcelain=v1 -z` as (XY, path, from) triples; `from` empty unless renamed.
struct PorcelainEntry {
  std::string status, path, from;
  bool operator==(const PorcelainEntry&) const = default;
};
std::vector<PorcelainEntry> parse_porcelain_z(std::string_view text);
std::string trim(std::string s);

}  // namespace dsv4::test
