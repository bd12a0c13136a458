#pragma once
// The agent's conversation and tools in the shape of the Anthropic Messages API: system
// text at the top level, strictly alternating user/assistant messages of content blocks,
// tool results as tool_result blocks of the next user message, thinking sent back with
// its signature exactly as the server gave it.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent/messages.hpp"

namespace dsv4::agent {

// The system messages' text, joined by blank lines ("" when there is none).
std::string anthropic_system(const std::vector<Message>& messages);

// The non-system messages as the request's "messages" array. Consecutive user and tool
// messages merge into one user message, blocks in order; empty texts are left out. With
// `thinking`, an assistant message after the last user message begins with its thinking
// block (signature included when one is known); `everywhere` sends every known thinking
// block (the repair when a server demands them all).
nlohmann::json anthropic_messages(const std::vector<Message>& messages, bool thinking,
                                  bool everywhere = false);

// OpenAI tool objects ({"type":"function","function":{name, description, parameters}})
// as Anthropic tools ({name, description, input_schema}); "" or "[]" gives an empty array.
nlohmann::json anthropic_tools(const std::string& tools_json);

}  // namespace dsv4::agent
