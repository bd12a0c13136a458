#pragma once
// File contents and names are bytes; tool results are JSON and must be valid UTF-8.
#include <string>
#include <string_view>

namespace dsv4::tools {

// `bytes` with every byte that is not part of a valid UTF-8 sequence written as \xNN
// (two lowercase hex digits), so that the result is always valid UTF-8.
std::string escape_invalid_utf8(std::string_view bytes);

// Length of the valid UTF-8 sequence starting at bytes[i], or 0 if bytes[i] starts none.
size_t utf8_sequence_length(std::string_view bytes, size_t i);

// Whether `bytes` is valid UTF-8 throughout.
bool is_valid_utf8(std::string_view bytes);

}  // namespace dsv4::tools
