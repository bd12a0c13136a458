#pragma once
// `dsv4 encode` (conversation -> prompt text) and `dsv4 parse` (completion -> message).
#include <string>
#include <vector>

namespace dsv4::engine {

// Exit code: 0 on success, 1 when the input cannot be encoded / parsed, 2 on bad usage.
int encode_command(const std::vector<std::string>& args);
int parse_command(const std::vector<std::string>& args);

}  // namespace dsv4::engine
