#pragma once
// Text files under prompts/ (system prompts, tool descriptions), embedded at build time.
#include <span>
#include <string_view>
#include <utility>

namespace dsv4::prompts {

// Every embedded file as (path relative to prompts/, contents), sorted by path.
std::span<const std::pair<std::string_view, std::string_view>> all();

// The contents of prompts/<path>; throws std::out_of_range naming the path if absent.
std::string_view get(std::string_view path);

}  // namespace dsv4::prompts
