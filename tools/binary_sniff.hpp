#pragma once
// Telling text files from binary ones by their first bytes.
#include <optional>
#include <string>
#include <string_view>

namespace dsv4::tools {

// How many leading bytes of a file binary_kind() needs.
inline constexpr size_t kSniffBytes = 8192;

// Nothing for text; otherwise what the bytes look like ("PNG image", "UTF-16 text",
// "binary data"). Binary means: a known binary signature, a NUL byte, or mostly bytes
// that are neither printable nor valid UTF-8.
std::optional<std::string> binary_kind(std::string_view head);

}  // namespace dsv4::tools
