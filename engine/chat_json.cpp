// JSON <-> Message. ordered_json keeps every object's key order, which the prompt shows
// (tool schemas, response formats, tool-call arguments).
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "engine/chat.hpp"

namespace dsv4::engine {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kRoleNames[] = {"system",    "user",     "assistant",
                                           "tool",      "developer", "latest_reminder"};

struct Where {
  size_t index;
  std::string_view field;
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("message " + std::to_string(index) + ", field '" +
                                std::string(field) + "': " + what);
  }
};

std::string type_name(const Json& v) { return v.type_name(); }

std::optional<std::string> optional_string(const Json& obj, std::string_view key, size_t index) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) Where{index, key}.fail("expected a string, got " + type_name(*it));
  return it->get<std::string>();
}

std::vector<ContentPart> parts_from_json(const Json& list, Where where) {
  std::vector<ContentPart> parts;
  for (const Json& item : list) {
    if (!item.is_object()) where.fail("each content part must be an object, got " + type_name(item));
    ContentPart part;
    if (auto t = item.find("type"); t != item.end() && t->is_string()) part.type = t->get<std::string>();
    if (part.type == "text") {
      auto text = item.find("text");
      if (text != item.end() && !text->is_null()) {
        if (!text->is_string()) where.fail("a text part's 'text' must be a string");
        part.text = text->get<std::string>();
      }
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

ToolCall tool_call_from_json(const Json& tc, Where where) {
  if (!tc.is_object()) where.fail("each tool call must be an object");
  auto fn = tc.find("function");
  if (fn == tc.end() || !fn->is_object()) where.fail("a tool call needs a 'function' object");
  ToolCall call;
  if (auto id = tc.find("id"); id != tc.end() && id->is_string()) call.id = id->get<std::string>();
  if (auto id = fn->find("id"); call.id.empty() && id != fn->end() && id->is_string())
    call.id = id->get<std::string>();
  auto name = fn->find("name");
  if (name == fn->end() || !name->is_string()) where.fail("a tool call's function needs a string 'name'");
  call.name = name->get<std::string>();
  auto args = fn->find("arguments");
  if (args == fn->end() || args->is_null()) {
    call.arguments.clear();
  } else if (args->is_string()) {
    call.arguments = args->get<std::string>();
  } else {
    call.arguments = args->dump(-1, ' ', false, Json::error_handler_t::strict);
  }
  return call;
}

Message message_from_json(const Json& m, size_t index) {
  if (!m.is_object()) Where{index, "role"}.fail("a message must be an object, got " + type_name(m));
  Message msg;
  auto role = optional_string(m, "role", index);
  if (!role) Where{index, "role"}.fail("missing; use system, user, assistant, tool, developer or latest_reminder");
  bool known = false;
  for (size_t i = 0; i < std::size(kRoleNames); ++i) {
    if (kRoleNames[i] == *role) {
      msg.role = static_cast<Role>(i);
      known = true;
    }
  }
  if (!known) Where{index, "role"}.fail("invalid role '" + *role + "'; use system, user, assistant, tool, developer or latest_reminder");

  if (auto c = m.find("content"); c != m.end()) {
    if (c->is_string()) {
      msg.content = c->get<std::string>();
    } else if (c->is_array()) {
      if (msg.role != Role::user && msg.role != Role::tool)
        Where{index, "content"}.fail("a list of parts is accepted on user and tool messages only");
      msg.parts = parts_from_json(*c, Where{index, "content"});
    } else if (c->is_null()) {
      if (msg.role == Role::user) Where{index, "content"}.fail("null on a user message; give a string or a list of parts");
    } else {
      Where{index, "content"}.fail("expected a string, got " + type_name(*c));
    }
  }
  // vLLM reads `reasoning`, the DeepSeek API and upstream module `reasoning_content`.
  if (auto r = optional_string(m, "reasoning", index)) {
    msg.reasoning = *r;
  } else if (auto rc = optional_string(m, "reasoning_content", index)) {
    msg.reasoning = *rc;
  }
  if (auto tcs = m.find("tool_calls"); tcs != m.end() && !tcs->is_null()) {
    if (!tcs->is_array()) Where{index, "tool_calls"}.fail("expected a list");
    for (const Json& tc : *tcs) msg.tool_calls.push_back(tool_call_from_json(tc, Where{index, "tool_calls"}));
  }
  if (auto id = optional_string(m, "tool_call_id", index)) msg.tool_call_id = *id;
  if (auto tools = m.find("tools"); tools != m.end() && !tools->is_null()) {
    if (!tools->is_array()) Where{index, "tools"}.fail("expected a list of tool definitions");
    for (const Json& t : *tools) {
      auto fn = t.is_object() ? t.find("function") : t.end();
      if (!t.is_object() || fn == t.end()) Where{index, "tools"}.fail("each tool needs a 'function' object");
      msg.tools.push_back(fn->dump());
    }
  }
  if (auto rf = m.find("response_format"); rf != m.end() && !rf->is_null()) msg.response_format = rf->dump();
  msg.task = optional_string(m, "task", index);
  if (auto w = m.find("wo_eos"); w != m.end() && !w->is_null()) {
    if (!w->is_boolean()) Where{index, "wo_eos"}.fail("expected true or false");
    msg.wo_eos = w->get<bool>();
  }
  return msg;
}

Json message_to_json(const Message& msg) {
  Json m = Json::object();
  m["role"] = role_name(msg.role);
  if (msg.parts) {
    Json parts = Json::array();
    for (const auto& p : *msg.parts) {
      Json part = {{"type", p.type}};
      if (p.type == "text") part["text"] = p.text;
      parts.push_back(std::move(part));
    }
    m["content"] = std::move(parts);
  } else if (msg.content) {
    m["content"] = *msg.content;
  }
  if (!msg.reasoning.empty()) m["reasoning"] = msg.reasoning;
  if (!msg.tool_calls.empty()) {
    Json calls = Json::array();
    for (const auto& tc : msg.tool_calls)
      calls.push_back({{"id", tc.id},
                       {"type", "function"},
                       {"function", {{"name", tc.name}, {"arguments", tc.arguments}}}});
    m["tool_calls"] = std::move(calls);
  }
  if (msg.role == Role::tool) m["tool_call_id"] = msg.tool_call_id;
  if (!msg.tools.empty()) {
    Json tools = Json::array();
    for (const auto& t : msg.tools) tools.push_back({{"type", "function"}, {"function", Json::parse(t)}});
    m["tools"] = std::move(tools);
  }
  if (!msg.response_format.empty()) m["response_format"] = Json::parse(msg.response_format);
  if (msg.task) m["task"] = *msg.task;
  if (msg.wo_eos) m["wo_eos"] = true;
  return m;
}

}  // namespace

std::string_view role_name(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

std::vector<Message> messages_from_json(std::string_view json_array_text) {
  Json list = Json::parse(json_array_text, nullptr, false);
  if (list.is_discarded()) throw std::invalid_argument("messages are not valid JSON");
  if (!list.is_array()) throw std::invalid_argument("messages must be a JSON array of message objects");
  std::vector<Message> messages;
  for (size_t i = 0; i < list.size(); ++i) messages.push_back(message_from_json(list[i], i));
  return messages;
}

std::string messages_to_json(const std::vector<Message>& messages) {
  Json list = Json::array();
  for (const auto& m : messages) list.push_back(message_to_json(m));
  return list.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ThinkingMode thinking_mode_from_name(std::string_view name) {
  if (name == "chat") return ThinkingMode::chat;
  if (name == "thinking") return ThinkingMode::thinking;
  throw std::invalid_argument("invalid thinking mode '" + std::string(name) + "'; use chat or thinking");
}

ReasoningEffort reasoning_effort_from_name(std::string_view name) {
  if (name == "low") return ReasoningEffort::low;
  if (name == "high") return ReasoningEffort::high;
  if (name == "max") return ReasoningEffort::max;
  throw std::invalid_argument("invalid reasoning effort '" + std::string(name) + "'; use low, high or max");
}

}  // namespace dsv4::engine
