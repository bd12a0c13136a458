#pragma once
// Turns a parsed DSML call's parameters into a JSON arguments object for a tool, the
// tolerant way: string="false" values that are almost JSON are repaired when the repair is
// unambiguous, otherwise the call gets a precise error the model can act on.
#include <string>
#include <vector>

#include "engine/dsml_parser.hpp"

namespace dsv4::engine {

struct DecodedArguments {
  std::string json;                  // a JSON object; empty when `error` is set
  std::string error;                 // what is wrong, where, and what to send instead
  std::vector<std::string> repairs;  // what was fixed, one line each
};

DecodedArguments decode_arguments(const ParsedToolCall& call);

}  // namespace dsv4::engine
