#include "agent/anthropic_messages.hpp"

#include <nlohmann/json.hpp>

#include "agent/tool_repair.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

std::string anthropic_system(const std::vector<Message>& messages) {
  std::string system;
  for (const Message& m : messages) {
    if (m.role != Role::system || m.content.empty()) continue;
    if (!system.empty()) system += "\n\n";
    system += m.content;
  }
  return system;
}

namespace {

// tool_use.input must be an object, while the history keeps the arguments as the model
// sent them: repaired when that is unambiguous, else {} (the tool result already told the
// model what was wrong with them).
Json tool_input(const std::string& arguments) {
  RepairedJson repaired = repair_json_object(arguments.empty() ? "{}" : arguments);
  if (!repaired.error.empty()) return Json::object();
  return Json::parse(repaired.json);
}

}  // namespace

Json anthropic_messages(const std::vector<Message>& messages, bool thinking, bool everywhere) {
  size_t last_user = 0;
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].role == Role::user) last_user = i;
  Json out = Json::array();
  // The API wants strict alternation, so blocks of the same role join one message.
  auto append = [&](const char* role, Json block) {
    if (out.empty() || out.back()["role"] != role)
      out.push_back({{"role", role}, {"content", Json::array()}});
    out.back()["content"].push_back(std::move(block));
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    switch (m.role) {
      case Role::system:
        break;
      case Role::user:
        if (!m.content.empty()) append("user", {{"type", "text"}, {"text", m.content}});
        break;
      case Role::tool:
        append("user",
               {{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.content}});
        break;
      case Role::assistant: {
        Json blocks = Json::array();
        if (!m.content.empty()) blocks.push_back({{"type", "text"}, {"text", m.content}});
        for (const ToolCall& c : m.tool_calls)
          blocks.push_back({{"type", "tool_use"},
                            {"id", c.id},
                            {"name", c.name},
                            {"input", tool_input(c.arguments)}});
        if (blocks.empty()) break;  // thinking alone is no turn the API accepts
        const bool keep = thinking && (everywhere || i > last_user);
        if (keep && m.reasoning_content &&
            (!m.reasoning_content->empty() || m.reasoning_signature)) {
          Json block = {{"type", "thinking"}, {"thinking", *m.reasoning_content}};
          if (m.reasoning_signature) block["signature"] = *m.reasoning_signature;
          blocks.insert(blocks.begin(), std::move(block));
        }
        for (Json& b : blocks) append("assistant", std::move(b));
        break;
      }
    }
  }
  return out;
}

Json anthropic_tools(const std::string& tools_json) {
  Json out = Json::array();
  if (tools_json.empty()) return out;
  for (const Json& tool : Json::parse(tools_json)) {
    const Json& f = tool.contains("function") ? tool["function"] : tool;
    Json t = {{"name", f.value("name", "")},
              {"input_schema", f.value("parameters", Json{{"type", "object"}})}};
    if (f.contains("description")) t["description"] = f["description"];
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace dsv4::agent
