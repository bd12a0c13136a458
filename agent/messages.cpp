#include "agent/messages.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace dsv4::agent {

using Json = nlohmann::json;

std::string_view role_name(Role role) {
  switch (role) {
    case Role::system:
      return "system";
    case Role::user:
      return "user";
    case Role::assistant:
      return "assistant";
    case Role::tool:
      return "tool";
  }
  return "?";
}

namespace {

Message make(Role role, std::string content) {
  Message m;
  m.role = role;
  m.content = std::move(content);
  return m;
}

}  // namespace

Message system_message(std::string text) { return make(Role::system, std::move(text)); }
Message user_message(std::string text) { return make(Role::user, std::move(text)); }
Message tool_message(std::string tool_call_id, std::string content) {
  Message m = make(Role::tool, std::move(content));
  m.tool_call_id = std::move(tool_call_id);
  return m;
}

Json message_to_json(const Message& m) {
  Json j = {{"role", role_name(m.role)}, {"content", m.content}};
  if (m.role == Role::assistant) {
    if (m.reasoning_content) j["reasoning_content"] = *m.reasoning_content;
    if (m.reasoning_signature) j["reasoning_signature"] = *m.reasoning_signature;
    if (!m.tool_calls.empty()) {
      Json calls = Json::array();
      for (const ToolCall& c : m.tool_calls)
        calls.push_back({{"id", c.id},
                         {"type", "function"},
                         {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      j["tool_calls"] = std::move(calls);
    }
  }
  if (m.role == Role::tool) j["tool_call_id"] = m.tool_call_id;
  return j;
}

namespace {

std::string string_field(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw std::invalid_argument(where + "." + key + ": expected a string");
  return it->get<std::string>();
}

}  // namespace

Message message_from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("message: expected an object");
  Message m;
  std::string role = string_field(j, "role", "message");
  if (role == "system")
    m.role = Role::system;
  else if (role == "user")
    m.role = Role::user;
  else if (role == "assistant")
    m.role = Role::assistant;
  else if (role == "tool")
    m.role = Role::tool;
  else
    throw std::invalid_argument("message.role: unknown role '" + role + "'");
  m.content = string_field(j, "content", "message");
  if (auto it = j.find("reasoning_content"); it != j.end() && it->is_string())
    m.reasoning_content = it->get<std::string>();
  if (auto it = j.find("reasoning_signature"); it != j.end() && it->is_string())
    m.reasoning_signature = it->get<std::string>();
  m.tool_call_id = string_field(j, "tool_call_id", "message");
  if (auto it = j.find("tool_calls"); it != j.end() && it->is_array()) {
    for (const Json& c : *it) {
      const Json& f = c.value("function", Json::object());
      m.tool_calls.push_back({string_field(c, "id", "tool_call"),
                              string_field(f, "name", "function"),
                              string_field(f, "arguments", "function")});
    }
  }
  return m;
}

}  // namespace dsv4::agent
