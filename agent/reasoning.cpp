#include "agent/reasoning.hpp"

#include <nlohmann/json.hpp>

namespace dsv4::agent {

using Json = nlohmann::json;

Json request_messages(const std::vector<Message>& messages, bool thinking) {
  size_t last_user = 0;
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].role == Role::user) last_user = i;
  Json out = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    Json j = message_to_json(messages[i]);
    if (messages[i].role == Role::assistant) {
      j.erase("reasoning_content");
      j.erase("reasoning_signature");  // Anthropic's; no OpenAI-compatible server knows it
      if (thinking && i > last_user) {
        const Message& m = messages[i];
        if (m.reasoning_content)
          j["reasoning_content"] = *m.reasoning_content;
        else if (!m.tool_calls.empty())
          j["reasoning_content"] = "";
      }
    }
    out.push_back(std::move(j));
  }
  return out;
}

void give_every_assistant_reasoning(Json& messages) {
  for (Json& m : messages)
    if (m.value("role", "") == "assistant" && !m.contains("reasoning_content"))
      m["reasoning_content"] = "";
}

}  // namespace dsv4::agent
