#pragma once
// The conversation as the agent keeps it: OpenAI-style chat messages plus DeepSeek's
// reasoning_content and Anthropic's thinking signature, convertible to and from JSON for
// requests and the session file.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::agent {

enum class Role { system, user, assistant, tool };

std::string_view role_name(Role role);

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text as the model sent it (possibly broken)
};

struct Message {
  Role role = Role::user;
  std::string content;
  // assistant: the thinking text; nullopt when the server sent none.
  std::optional<std::string> reasoning_content;
  // assistant: the signature the Anthropic API gave the thinking; it must go back with the
  // thinking byte for byte. nullopt when none came.
  std::optional<std::string> reasoning_signature;
  std::vector<ToolCall> tool_calls;  // assistant
  std::string tool_call_id;          // tool
};

Message system_message(std::string text);
Message user_message(std::string text);
Message tool_message(std::string tool_call_id, std::string content);

// The OpenAI chat shape; reasoning_content and reasoning_signature included when present.
nlohmann::json message_to_json(const Message& message);
// Throws std::invalid_argument naming the field when the object is not a message.
Message message_from_json(const nlohmann::json& json);

}  // namespace dsv4::agent
