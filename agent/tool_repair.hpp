#pragma once
// Defensive handling of the tool calls a remote model sends: calls leaked into the content
// as DSML text are recovered, almost-JSON arguments are repaired when the repair is
// unambiguous, and everything else becomes a precise error the model can act on.
#include <string>
#include <string_view>
#include <vector>

#include "agent/messages.hpp"

namespace dsv4::tools {
struct Tool;
}

namespace dsv4::agent {

struct RepairedJson {
  std::string json;                  // a JSON object; "" when `error` is set
  std::string error;                 // what is wrong and where
  std::vector<std::string> repairs;  // what was fixed, one line each
};

// Arguments text as a JSON object: as is when valid; else with comments, trailing commas,
// single-quoted strings, raw control characters in strings or a double encoding fixed,
// when the result then parses as an object.
RepairedJson repair_json_object(std::string_view text);

// A call ready to run, or the error to send back as its result.
struct PreparedCall {
  ToolCall call;
  const tools::Tool* tool = nullptr;  // nullptr when unknown
  std::string arguments;              // the validated JSON object when error is ""
  std::string error;
  std::vector<std::string> repairs;
};

// Resolves the tool, repairs and validates the arguments against its schema.
PreparedCall prepare_call(const ToolCall& call);

struct LeakedCall {
  ToolCall call;      // arguments as a JSON object, "" when `error` is set
  std::string error;  // the DSML call was cut off or malformed: do not run it
};

// Tool calls the model wrote as text: DSML markup (fullwidth or ASCII bars) in the content,
// or in the reasoning of a turn without any other call; <tool_call>{json}</tool_call>
// blocks; a content that is nothing but a {"name", "arguments"} object of a known tool.
// Takes them out of the text (the markup never reaches the user) and returns them, ids
// "dsml_<n>" / "text_<n>" numbered after the message's existing calls.
std::vector<LeakedCall> recover_leaked_calls(Message& assistant);

}  // namespace dsv4::agent
