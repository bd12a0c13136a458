#pragma once
// The definition queries under tools/code/queries/, embedded at build time.
#include <span>
#include <string_view>
#include <utility>

namespace dsv4::tools::code::queries {

// Every query file as (file name, contents), sorted by name.
std::span<const std::pair<std::string_view, std::string_view>> all();

}  // namespace dsv4::tools::code::queries
