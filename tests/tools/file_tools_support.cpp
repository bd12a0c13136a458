#include "tests/tools/file_tools_support.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "sandbox/workspace.hpp"
#include "tools/registry.hpp"

namespace dsv4::test {
namespace fs = std::filesystem;

nlohmann::json call(const fs::path& root, std::string_view name, const nlohmann::json& args) {
  const tools::Tool* tool = tools::find_tool(name);
  REQUIRE(tool != nullptr);
  sandbox::Workspace ws(root);
  tools::ToolContext ctx{ws};
  auto result = tools::call_tool(*tool, args, ctx);
  std::string dumped;
  REQUIRE_NOTHROW(dumped = result.dump());  // the strict handler throws on invalid UTF-8
  return result;
}

std::string error_of(const nlohmann::json& result) {
  return result.value("ok", false) ? "" : result.value("error", std::string("(no error text)"));
}

std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    auto rel = fs::relative(it->path(), dir).string();
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      out[rel] = "<dir>";
    } else {
      std::ifstream in(it->path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      struct ::stat st {};
      ::lstat(it->path().c_str(), &st);
      out[rel] = ss.str() + "|" + std::to_string(st.st_mode & 07777);
    }
  }
  return out;
}

fs::path put(const fs::path& dir, std::string_view name, std::string_view text) {
  auto p = dir / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  return p;
}

}  // namespace dsv4::test
