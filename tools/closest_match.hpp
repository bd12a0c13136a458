#pragma once
// Where a text that was not found exactly comes closest, so that a failed edit can show
// the model the lines it probably meant.
#include <optional>
#include <string_view>

namespace dsv4::tools {

struct ClosestMatch {
  size_t first_line = 0;  // 1-based, inclusive
  size_t last_line = 0;
  // The region equals the needle once runs of spaces and tabs, line ends and trailing
  // "\r" are ignored: the needle's indentation or spacing is what is wrong.
  bool whitespace_only = false;
};

// The run of lines of `text` most similar, line by line, to the lines of `needle`;
// nothing when no region is even roughly similar.
std::optional<ClosestMatch> closest_match(std::string_view text, std::string_view needle);

}  // namespace dsv4::tools
