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
bool isolation_works = false;  // the launcher's check passed once

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
  if (launcher != path) isolation_works = false;
  launcher = path;
}

std::string isolation_problem() {
  auto exe = launcher_path();
  std::lock_guard lock(mutex);
  if (isolation_works) return "";
  // Only exec in the child: this process may have threads.
  auto answer = in_child([&]() -> std::string {
    ::execl(exe.c_str(), exe.c_str(), "sandbox", "check", "--quiet", static_cast<char*>(nullptr));
    return "cannot run the launcher " + exe.string();
  });
  // Only success is remembered: a failure may be passing (no processes left, say).
  isolation_works = answer.empty();
  return answer;
}

}  // namespace dsv4::sandbox
