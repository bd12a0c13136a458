#include "agent/workspace_diff.hpp"

#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <stop_token>

#include "tools/process.hpp"

extern char** environ;

namespace dsv4::agent {
namespace {

struct GitResult {
  int exit_code;
  std::string output;
};

GitResult git(const std::filesystem::path& root, std::vector<std::string> args,
              const std::string& index_file = "") {
  tools::ProcessSpec spec;
  spec.argv = {"git", "-c", "core.quotepath=off"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = root;
  for (char** e = environ; *e; ++e) {
    std::string_view var(*e);
    if (!var.starts_with("GIT_INDEX_FILE=")) spec.env.emplace_back(var);
  }
  if (!index_file.empty()) spec.env.push_back("GIT_INDEX_FILE=" + index_file);
  spec.timeout = std::chrono::minutes(2);
  GitResult r{-1, {}};
  tools::ProcessEnd end =
      tools::run_process(spec, std::stop_token{}, [&](std::string_view s) { r.output.append(s); });
  r.exit_code = end.exit_code;
  return r;
}

}  // namespace

std::optional<std::string> snapshot_tree(const std::filesystem::path& root) {
  static std::atomic<int> counter{0};
  if (git(root, {"rev-parse", "--is-inside-work-tree"}).exit_code != 0) return std::nullopt;
  std::string index =
      (std::filesystem::temp_directory_path() /
       ("dsv4-index-" + std::to_string(::getpid()) + "-" + std::to_string(++counter)))
          .string();
  GitResult add = git(root, {"add", "-A", "--", ".", ":(exclude).dsv4"}, index);
  GitResult tree = add.exit_code == 0 ? git(root, {"write-tree"}, index) : add;
  std::filesystem::remove(index);
  if (tree.exit_code != 0)
    throw std::runtime_error("cannot record the workspace with git: " + tree.output);
  while (!tree.output.empty() && (tree.output.back() == '\n' || tree.output.back() == '\r'))
    tree.output.pop_back();
  return tree.output;
}

std::string diff_trees(const std::filesystem::path& root, const std::string& before,
                       const std::string& after) {
  GitResult d = git(root, {"diff", "--no-color", "--no-ext-diff", "--binary", before, after});
  if (d.exit_code != 0) throw std::runtime_error("git diff failed: " + d.output);
  return d.output;
}

}  // namespace dsv4::agent
