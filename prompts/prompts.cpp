#include "prompts/prompts.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dsv4::prompts {

std::string_view get(std::string_view path) {
  auto entries = all();
  auto it = std::lower_bound(entries.begin(), entries.end(), path,
                             [](const auto& e, std::string_view p) { return e.first < p; });
  if (it == entries.end() || it->first != path)
    throw std::out_of_range("no embedded prompt 'prompts/" + std::string(path) + "'");
  return it->second;
}

}  // namespace dsv4::prompts
