#include "tests/tools/walk_support.hpp"

#include <fstream>
#include <mutex>
#include <stdexcept>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"

namespace dsv4::test {
namespace fs = std::filesystem;

void make_tree(const fs::path& root, const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    if (auto arrow = p.find(" -> "); arrow != std::string::npos) {
      auto link = root / p.substr(0, arrow);
      fs::create_directories(link.parent_path());
      fs::create_symlink(p.substr(arrow + 4), link);
    } else if (p.ends_with('/')) {
      fs::create_directories(root / p);
    } else {
      fs::create_directories((root / p).parent_path());
      std::ofstream out(root / p, std::ios::binary);
      out << p << "\n";
      if (!out) throw std::runtime_error("cannot write " + p);
    }
  }
}

std::set<std::string> walked_files(const fs::path& root, const tools::WalkOptions& options) {
  sandbox::Workspace ws(root);
  std::set<std::string> out;
  std::mutex mu;
  tools::walk(ws, options, [&](const tools::Entry& e) {
    if (e.kind == tools::Entry::Kind::file || e.kind == tools::Entry::Kind::symlink) {
      std::lock_guard lock(mu);
      out.insert(e.path);
    }
    return true;
  });
  return out;
}

std::set<std::string> split_nul(std::string_view text) {
  std::set<std::string> out;
  while (!text.empty()) {
    auto end = text.find('\0');
    if (end == std::string_view::npos) end = text.size();
    if (end > 0) out.emplace(text.substr(0, end));
    text.remove_prefix(std::min(text.size(), end + 1));
  }
  return out;
}

std::set<std::string> git_untracked(const fs::path& repo) {
  auto r = run({"git", "-c", "core.excludesFile=/dev/null", "ls-files", "-z", "--others",
                "--exclude-standard"},
               repo);
  if (r.exit_code != 0) throw std::runtime_error("git ls-files failed: " + r.err);
  return split_nul(r.out);
}

std::set<std::string> rg_files(const fs::path& root, const std::string& flags) {
  auto r = run({"bash", "-c", "RIPGREP_CONFIG_PATH= rg --no-config --files --null " + flags},
               root);
  if (r.exit_code > 1) throw std::runtime_error("rg --files failed: " + r.err);
  return split_nul(r.out);
}

}  // namespace dsv4::test
