#pragma once
// Reads a JSON Lines fixture: one record per non-empty line.
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dsv4::test {

inline std::vector<std::string> read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

inline const std::string kGoldenEncoding = std::string(DSV4_SHARED_DIR) + "/golden/encoding/";

}  // namespace dsv4::test
