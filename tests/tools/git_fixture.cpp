#include "tests/tools/git_fixture.hpp"

#include <cstdlib>
#include <stdexcept>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tools/registry.hpp"

namespace dsv4::test {
namespace {

// Neither git nor libgit2 may see the machine's configuration (identity, aliases, colours):
// every test process gets an empty HOME before libgit2 first reads it.
void isolate_git_config() {
  static const TempDir* home = [] {
    auto* dir = new TempDir();
    ::setenv("HOME", dir->path().c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", (dir->path() / ".config").c_str(), 1);
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::unsetenv("GIT_DIR");
    ::unsetenv("GIT_WORK_TREE");
    ::unsetenv("GIT_INDEX_FILE");
    return dir;
  }();
  (void)home;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

GitRepo::GitRepo(bool init) {
  isolate_git_config();
  if (init) {
    git("init -q -b main");
    git("config user.name 'Test Author'");
    git("config user.email author@example.com");
  }
}

std::string GitRepo::git(const std::string& args, const std::string& sub) {
  ++clock_;
  auto date = std::to_string(1700000000 + clock_ * 60) + " +0200";
  auto script = "GIT_AUTHOR_DATE=" + quote(date) + " GIT_COMMITTER_DATE=" + quote(date) +
                " git " + args;
  return sh(script, sub.empty() ? path() : path() / sub);
}

int GitRepo::git_status_code(const std::string& args) {
  return run({"bash", "-c", "git " + args}, path()).exit_code;
}

void GitRepo::sh_touch(const std::string& rel, const std::string& fraction) {
  sh("touch -d @1600000000" + fraction + " " + quote(rel), path());
}

std::string GitRepo::commit_all(const std::string& message) {
  git("add -A");
  git("commit -q --allow-empty -m " + quote(message));
  return trim(git("rev-parse HEAD"));
}

nlohmann::json GitRepo::tool(std::string_view name, const nlohmann::json& args,
                             const std::string& root) const {
  const tools::Tool* t = tools::find_tool(name);
  if (!t) throw std::runtime_error("no tool " + std::string(name));
  sandbox::Workspace ws(root.empty() ? path() : path() / root);
  tools::ToolContext ctx{ws};
  return tools::call_tool(*t, args, ctx);
}

std::vector<PorcelainEntry> parse_porcelain_z(std::string_view text) {
  std::vector<PorcelainEntry> out;
  size_t pos = 0;
  auto next = [&] {
    auto end = text.find('\0', pos);
    std::string field(text.substr(pos, end - pos));
    pos = end + 1;
    return field;
  };
  while (pos < text.size()) {
    auto field = next();
    PorcelainEntry e{field.substr(0, 2), field.substr(3), ""};
    if (e.status[0] == 'R' || e.status[0] == 'C') e.from = next();
    out.push_back(e);
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace dsv4::test
