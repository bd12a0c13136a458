#pragma once
// Runs a real process (the dsv4 binary, git, ctags, ...) and captures what it printed.
#include <filesystem>
#include <string>
#include <vector>

namespace dsv4::test {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv[0] (looked up in PATH) with `cwd` as its folder and empty stdin.
RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& cwd = ".",
              const std::string& stdin_text = "");
// Runs `bash -c script` in `cwd`; throws with the output when it exits non-zero.
std::string sh(const std::string& script, const std::filesystem::path& cwd);
// Runs the built dsv4 binary with `args`.
RunResult run_dsv4(const std::vector<std::string>& args, const std::filesystem::path& cwd = ".");

}  // namespace dsv4::test
