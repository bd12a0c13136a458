#pragma once
// File contents and names are bytes; JSON results need valid UTF-8.
#include <string>
#include <string_view>

namespace dsv4::tools {

// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view bytes);

// `i` moved back to the start of the UTF-8 character it falls in.
size_t utf8_floor(std::string_view s, size_t i);

}  // namespace dsv4::tools
