#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dsv4::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  auto tmpl = (fs::temp_directory_path() / "dsv4-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = fs::canonical(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may leave read-only folders behind; make them writable so removal works.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

void TempDir::write(std::string_view rel, std::string_view content) const {
  auto p = path_ / rel;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string TempDir::read(std::string_view rel) const {
  std::ifstream in(path_ / rel, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + (path_ / rel).string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dsv4::test
