#include "tests/agent/fake_anthropic.hpp"

#include <cstdint>
#include <cstdio>
#include <set>

namespace dsv4::test {

using Json = nlohmann::json;

std::string signature_for(const std::string& thinking) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: any change to the text changes it
  for (unsigned char c : thinking) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  // Shaped like a real one (base64 with '+', '/', '='), so that any re-encoding shows.
  return "EqQB+sig/" + std::string(hex) + "+/==";
}

namespace {

std::string stop_reason_of(const AnthropicTurn& t) {
  if (!t.stop_reason.empty()) return t.stop_reason;
  return t.calls.empty() ? "end_turn" : "tool_use";
}

Json usage_of(const AnthropicTurn& t) {
  return {{"input_tokens", t.input_tokens},
          {"cache_creation_input_tokens", t.cache_write},
          {"cache_read_input_tokens", t.cache_read},
          {"output_tokens", t.output_tokens}};
}

Json message_shell(const AnthropicTurn& t) {
  return {{"id", "msg_fake"},
          {"type", "message"},
          {"role", "assistant"},
          {"content", Json::array()},
          {"model", "deepseek-v4-flash"},
          {"stop_reason", nullptr},
          {"stop_sequence", nullptr},
          {"usage", usage_of(t)}};
}

Json error_body(const std::string& type, const std::string& message) {
  return {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
}

ScriptedReply invalid(const std::string& message) {
  return anthropic_error(400, "invalid_request_error", message);
}

}  // namespace

ScriptedReply anthropic_sse(const AnthropicTurn& t) {
  ScriptedReply r;
  r.named_events = true;
  auto event = [&](Json e) { r.sse.push_back(e.dump()); };
  Json start = message_shell(t);
  start["usage"]["output_tokens"] = 1;
  event({{"type", "message_start"}, {"message", start}});
  event({{"type", "ping"}});
  int index = 0;
  auto block = [&](const Json& opening, const std::vector<Json>& deltas) {
    event({{"type", "content_block_start"}, {"index", index}, {"content_block", opening}});
    for (const Json& d : deltas)
      event({{"type", "content_block_delta"}, {"index", index}, {"delta", d}});
    event({{"type", "content_block_stop"}, {"index", index}});
    ++index;
  };
  if (!t.thinking.empty()) {
    std::vector<Json> deltas;
    for (const auto& p : pieces(t.thinking, t.text_piece))
      deltas.push_back({{"type", "thinking_delta"}, {"thinking", p}});
    deltas.push_back({{"type", "signature_delta"}, {"signature", signature_for(t.thinking)}});
    block({{"type", "thinking"}, {"thinking", ""}}, deltas);
  }
  if (!t.text.empty()) {
    std::vector<Json> deltas;
    for (const auto& p : pieces(t.text, t.text_piece))
      deltas.push_back({{"type", "text_delta"}, {"text", p}});
    block({{"type", "text"}, {"text", ""}}, deltas);
  }
  for (const ToolUseSpec& c : t.calls) {
    std::vector<Json> deltas = {{{"type", "input_json_delta"}, {"partial_json", ""}}};
    for (const auto& p : pieces(c.input, t.input_piece))
      deltas.push_back({{"type", "input_json_delta"}, {"partial_json", p}});
    block({{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", Json::object()}},
          deltas);
  }
  event({{"type", "message_delta"},
         {"delta", {{"stop_reason", stop_reason_of(t)}, {"stop_sequence", nullptr}}},
         {"usage", {{"output_tokens", t.output_tokens}}}});
  event({{"type", "message_stop"}});
  return r;
}

ScriptedReply anthropic_json(const AnthropicTurn& t) {
  Json message = message_shell(t);
  if (!t.thinking.empty())
    message["content"].push_back(
        {{"type", "thinking"}, {"thinking", t.thinking}, {"signature", signature_for(t.thinking)}});
  if (!t.text.empty()) message["content"].push_back({{"type", "text"}, {"text", t.text}});
  for (const ToolUseSpec& c : t.calls)
    message["content"].push_back(
        {{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", Json::parse(c.input)}});
  message["stop_reason"] = stop_reason_of(t);
  ScriptedReply r;
  r.body = message.dump();
  return r;
}

ScriptedReply anthropic_error(int status, const std::string& type, const std::string& message) {
  ScriptedReply r;
  r.status = status;
  r.body = error_body(type, message).dump();
  return r;
}

FakeAnthropic::FakeAnthropic(std::vector<ScriptedReply> script, std::string api_key)
    : api_key_(std::move(api_key)),
      script_(std::move(script)),
      server_([this](const RecordedRequest& request) { return reply(request); }) {}

ScriptedReply FakeAnthropic::reply(const RecordedRequest& request) {
  if (auto refusal = check_rules(request)) return *refusal;
  std::lock_guard lock(mutex_);
  return next_ < script_.size()
             ? script_[next_++]
             : anthropic_error(500, "api_error", "fake server: the script has no more replies");
}

std::optional<ScriptedReply> FakeAnthropic::check_rules(const RecordedRequest& r) const {
  if (r.method != "POST" || r.path != "/v1/messages")
    return anthropic_error(404, "not_found_error", "Not Found: " + r.method + " " + r.path);
  auto key = r.headers.find("x-api-key");
  if (key == r.headers.end() || key->second != api_key_)
    return anthropic_error(401, "authentication_error", "invalid x-api-key");
  if (!r.headers.count("anthropic-version"))
    return invalid("anthropic-version: header is required");
  const Json& body = r.json;
  if (!body.is_object()) return invalid("The request body is not valid JSON.");
  if (!body.contains("model") || !body["model"].is_string())
    return invalid("model: Field required");
  if (!body.contains("max_tokens") || !body["max_tokens"].is_number_integer() ||
      body["max_tokens"].get<long>() < 1)
    return invalid("max_tokens: Field required");
  const long max_tokens = body["max_tokens"].get<long>();

  bool thinking = false;
  if (auto t = body.find("thinking"); t != body.end()) {
    const std::string type = t->is_object() ? t->value("type", "") : "";
    if (type == "enabled") {
      thinking = true;
      auto budget = t->find("budget_tokens");
      if (budget == t->end() || !budget->is_number_integer())
        return invalid("thinking.enabled.budget_tokens: Field required");
      if (budget->get<long>() < 1024)
        return invalid(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024");
      if (budget->get<long>() >= max_tokens)
        return invalid("`max_tokens` must be greater than `thinking.budget_tokens`");
    } else if (type != "disabled") {
      return invalid("thinking: Input tag '" + type + "' does not match 'enabled' or 'disabled'");
    }
  }
  if (auto s = body.find("system"); s != body.end() && !s->is_string() && !s->is_array())
    return invalid("system: Input should be a valid string or list");
  if (auto tools = body.find("tools"); tools != body.end()) {
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& tool = (*tools)[i];
      const std::string where = "tools." + std::to_string(i);
      if (!tool.contains("name") || !tool["name"].is_string())
        return invalid(where + ".name: Field required");
      if (!tool.contains("input_schema") || !tool["input_schema"].is_object())
        return invalid(where + ".input_schema: Field required");
    }
  }

  const Json messages = body.value("messages", Json());
  if (!messages.is_array() || messages.empty())
    return invalid("messages: at least one message is required");
  // Where the current user turn begins: the last user message with more than tool results.
  size_t turn_start = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].value("role", "") != "user") continue;
    const Json& content = messages[i].value("content", Json());
    bool only_results = content.is_array() && !content.empty();
    if (content.is_array())
      for (const Json& b : content)
        only_results = only_results && b.value("type", "") == "tool_result";
    if (!only_results) turn_start = i;
  }
  std::set<std::string> open_calls;  // tool_use ids of the previous assistant message
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = "messages." + std::to_string(i);
    const std::string role = m.value("role", "");
    if (role != "user" && role != "assistant")
      return invalid(where + ".role: Input should be 'user' or 'assistant'");
    if (i == 0 && role != "user")
      return invalid("messages: first message must use the \"user\" role");
    if (i > 0 && messages[i - 1].value("role", "") == role)
      return invalid(
          "messages: roles must alternate between \"user\" and \"assistant\", but found multiple "
          "\"" +
          role + "\" roles in a row");
    Json content = m.value("content", Json());
    if (content.is_string()) content = Json::array({{{"type", "text"}, {"text", content}}});
    if (!content.is_array() || content.empty())
      return invalid(where + ": all messages must have non-empty content");
    std::set<std::string> calls, answered;
    for (size_t j = 0; j < content.size(); ++j) {
      const Json& b = content[j];
      const std::string at = where + ".content." + std::to_string(j);
      const std::string type = b.value("type", "");
      if (type == "text") {
        if (!b.contains("text") || !b["text"].is_string() || b["text"].get<std::string>().empty())
          return invalid(at + ": text content blocks must be non-empty");
      } else if (role == "user" && type == "tool_result") {
        const std::string id = b.value("tool_use_id", "");
        if (!open_calls.count(id))
          return invalid(at + ": unexpected `tool_use_id` found in `tool_result` blocks: " + id +
                         ". Each `tool_result` block must have a corresponding `tool_use` block in "
                         "the previous message.");
        answered.insert(id);
      } else if (role == "assistant" && type == "tool_use") {
        if (!b.contains("input") || !b["input"].is_object())
          return invalid(at + ".input: Input should be a valid dictionary");
        calls.insert(b.value("id", ""));
      } else if (role == "assistant" && type == "thinking") {
        if (!b.contains("signature") || !b["signature"].is_string())
          return invalid(at + ".thinking.signature: Field required");
        if (b["signature"] != signature_for(b.value("thinking", "")))
          return invalid(at + ": Invalid `signature` in `thinking` block");
      } else {
        return invalid(at + ".type: unexpected block type '" + type + "' in a " + role +
                       " message");
      }
    }
    if (role == "user") {
      for (const std::string& id : open_calls)
        if (!answered.count(id))
          return invalid(where +
                         ": `tool_use` ids were found without `tool_result` blocks "
                         "immediately after: " +
                         id +
                         ". Each `tool_use` block must have a corresponding `tool_result` block in "
                         "the next message.");
    }
    if (role == "assistant" && thinking && i > turn_start && !calls.empty() &&
        content[0].value("type", "") != "thinking")
      return invalid(where +
                     ".content.0.type: Expected `thinking` or `redacted_thinking`, but found `" +
                     content[0].value("type", "") +
                     "`. When `thinking` is enabled, a final `assistant` message must start with a "
                     "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` "
                     "blocks). To avoid this requirement, disable `thinking`.");
    open_calls = role == "assistant" ? calls : std::set<std::string>{};
  }
  if (!open_calls.empty())
    return invalid(
        "messages: `tool_use` ids were found without `tool_result` blocks immediately "
        "after: " +
        *open_calls.begin());
  return std::nullopt;
}

}  // namespace dsv4::test
