#include "sandbox/launcher.hpp"

#include <unistd.h>

#include <mutex>
#include <optional>

#include "sandbox/probe.hpp"

namespace dsv4::sandbox {
namespace fs = std::filesystem;

namespace {

std::mutex mutex;
std::optional<fs::path> launcher;
std::optional<std::string> problem;  // cached answer of the launcher's check

}  // namespace

fs::path launcher_path() {
  std::lock_guard lock(mutex);
  if (!launcher) {
    std::error_code ec;
    launcher = fs::read_symlink("/proc/self/exe", ec);
    if (ec) launcher = "dsv4";
  }
  return *launcher;
}

void set_launcher_path(const fs::path& path) {
  std::lock_guard lock(mutex);
  launcher = path;
  problem.reset();
}

std::string isolation_problem() {
  auto exe = launcher_path();
  std::lock_guard lock(mutex);
  if (!problem) {
    // Only exec in the child: this process may have threads.
    problem = in_child([&]() -> std::string {
      ::execl(exe.c_str(), exe.c_str(), "sandbox", "check", "--quiet", static_cast<char*>(nullptr));
      return "cannot run the launcher " + exe.string();
    });
  }
  return *problem;
}

}  // namespace dsv4::sandbox
