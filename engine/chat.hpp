#pragma once
// A conversation as the DeepSeek-V4 chat encoding sees it: plain values that the agent
// builds and the encoder renders. Field meanings follow the OpenAI chat format, plus the
// DeepSeek extras (developer / latest_reminder roles, tasks, wo_eos).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::engine {

enum class Role { system, user, assistant, tool, developer, latest_reminder };

std::string_view role_name(Role role);

// One element of a list-valued content: {"type":"text","text":...}, an image part
// ("image" / "image_url"), or some other type that the encoder may reject.
struct ContentPart {
  std::string type;
  std::string text;  // only for type "text"
};

// An OpenAI tool call. `arguments` is JSON text (normally an object); "" means none.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

struct Message {
  Role role = Role::user;
  // The content as a string; nullopt when it was null or absent.
  std::optional<std::string> content;
  // The content given as a list of parts (user and tool messages only).
  std::optional<std::vector<ContentPart>> parts;
  std::string reasoning;               // assistant: the thinking text
  std::vector<ToolCall> tool_calls;    // assistant
  std::string tool_call_id;            // tool: the call this result answers
  std::vector<std::string> tools;      // system/developer: JSON of each tool's `function` object
  std::string response_format;         // system/developer: JSON text, "" for none
  std::optional<std::string> task;     // action, query, authority, domain, title, read_url
  bool wo_eos = false;                 // assistant: leave the turn open (prefill)
};

enum class ThinkingMode { chat, thinking };
enum class ReasoningEffort { low, high, max };

struct EncodeOptions {
  ThinkingMode mode = ThinkingMode::thinking;
  bool drop_thinking = true;   // drop reasoning of turns before the last user message
  bool add_bos = true;         // ignored when a context is given
  ReasoningEffort effort = ReasoningEffort::low;
};

// A conversation in JSON (an array of OpenAI-style message objects), keeping the key
// order of every embedded JSON value. Throws std::invalid_argument naming the message
// and field on anything malformed.
std::vector<Message> messages_from_json(std::string_view json_array_text);
// The inverse, for storing a conversation: an array of message objects.
std::string messages_to_json(const std::vector<Message>& messages);

ThinkingMode thinking_mode_from_name(std::string_view name);        // "chat" / "thinking"
ReasoningEffort reasoning_effort_from_name(std::string_view name);  // "low" / "high" / "max"

}  // namespace dsv4::engine
