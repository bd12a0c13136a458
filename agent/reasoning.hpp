#pragma once
// DeepSeek V4's reasoning_content rules for what goes back to the server. In thinking
// mode the server rejects a tool-calling assistant turn of the current user turn that
// lacks reasoning_content (HTTP 400), while reasoning of earlier user turns is dead weight.
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "agent/messages.hpp"

namespace dsv4::agent {

// The messages as a request's JSON array. Thinking on: assistant messages after the last
// user message keep their reasoning_content, "" when they call tools without any; earlier
// ones lose it. Thinking off: no reasoning_content at all.
nlohmann::json request_messages(const std::vector<Message>& messages, bool thinking);

// The repair after the server still complained: every assistant message carries a
// reasoning_content ("" where none is known).
void give_every_assistant_reasoning(nlohmann::json& messages);

}  // namespace dsv4::agent
