#pragma once
// A fresh folder under $TMPDIR for one test, removed with everything in it afterwards.
#include <filesystem>
#include <string>
#include <string_view>

namespace dsv4::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view rel) const { return path_ / rel; }

  // Writes `content` to path()/rel, creating folders.
  void write(std::string_view rel, std::string_view content) const;
  std::string read(std::string_view rel) const;

 private:
  std::filesystem::path path_;
};

}  // namespace dsv4::test
