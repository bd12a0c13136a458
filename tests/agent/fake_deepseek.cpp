#include "tests/agent/fake_deepseek.hpp"

namespace dsv4::test {

using Json = nlohmann::json;

namespace {

Json usage_of(const TurnSpec& t) {
  Json u = {{"prompt_tokens", t.prompt_tokens},
            {"completion_tokens", t.completion_tokens},
            {"total_tokens", t.prompt_tokens + t.completion_tokens}};
  if (t.openai_usage) {
    u["prompt_tokens_details"] = {{"cached_tokens", t.cache_hit}};
  } else {
    u["prompt_cache_hit_tokens"] = t.cache_hit;
    u["prompt_cache_miss_tokens"] = t.prompt_tokens - t.cache_hit;
  }
  return u;
}

Json chunk(const Json& delta, const Json& finish = nullptr) {
  return {{"id", "chatcmpl-test"},
          {"object", "chat.completion.chunk"},
          {"model", "deepseek-v4-flash"},
          {"choices", Json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

}  // namespace

ScriptedReply sse_turn(const TurnSpec& t) {
  ScriptedReply r;
  r.sse.push_back(chunk({{"role", "assistant"}, {"content", nullptr}}).dump());
  for (const auto& p : pieces(t.reasoning, 7))
    r.sse.push_back(chunk({{"content", nullptr}, {"reasoning_content", p}}).dump());
  for (const auto& p : pieces(t.content, 7))
    r.sse.push_back(chunk({{"content", p}, {"reasoning_content", nullptr}}).dump());
  for (size_t i = 0; i < t.calls.size(); ++i) {
    const auto& c = t.calls[i];
    r.sse.push_back(chunk({{"tool_calls",
                            Json::array({{{"index", i},
                                          {"id", c.id},
                                          {"type", "function"},
                                          {"function", {{"name", c.name}, {"arguments", ""}}}}})}})
                        .dump());
    for (const auto& p : pieces(c.arguments, 9))
      r.sse.push_back(
          chunk({{"tool_calls", Json::array({{{"index", i}, {"function", {{"arguments", p}}}}})}})
              .dump());
  }
  r.sse.push_back(chunk({{"content", ""}}, t.calls.empty() ? "stop" : "tool_calls").dump());
  Json usage_chunk = chunk(Json::object());
  usage_chunk["choices"] = Json::array();
  usage_chunk["usage"] = usage_of(t);
  r.sse.push_back(usage_chunk.dump());
  r.sse.push_back("[DONE]");
  return r;
}

ScriptedReply json_turn(const TurnSpec& t) {
  Json message = {{"role", "assistant"}, {"content", t.content}};
  if (!t.reasoning.empty()) message["reasoning_content"] = t.reasoning;
  if (!t.calls.empty()) {
    message["tool_calls"] = Json::array();
    for (const auto& c : t.calls)
      message["tool_calls"].push_back(
          {{"id", c.id},
           {"type", "function"},
           {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  }
  Json body = {
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"model", "deepseek-v4-flash"},
      {"choices", Json::array({{{"index", 0},
                                {"message", message},
                                {"finish_reason", t.calls.empty() ? "stop" : "tool_calls"}}})},
      {"usage", usage_of(t)}};
  ScriptedReply r;
  r.body = body.dump();
  return r;
}

ScriptedReply error_reply(int status, const std::string& message, const std::string& type,
                          const std::string& param) {
  ScriptedReply r;
  r.status = status;
  r.body = Json{{"error",
                 {{"message", message},
                  {"type", type},
                  {"param", param.empty() ? Json(nullptr) : Json(param)},
                  {"code", type}}}}
               .dump();
  return r;
}

FakeDeepSeek::FakeDeepSeek(std::vector<ScriptedReply> script, std::string api_key)
    : api_key_(std::move(api_key)),
      script_(std::move(script)),
      server_([this](const RecordedRequest& request) { return reply(request); }) {}

ScriptedReply FakeDeepSeek::reply(const RecordedRequest& request) {
  if (auto refusal = check_rules(request)) return *refusal;
  std::lock_guard lock(mutex_);
  return next_ < script_.size()
             ? script_[next_++]
             : error_reply(500, "fake server: the script has no more replies", "server_error");
}

namespace {

// Strict function calling: only on the beta endpoint, and only with closed schemas that
// require every property (what DeepSeek documents for its strict mode).
std::optional<std::string> strict_schema_violation(const Json& schema, const std::string& where) {
  if (!schema.is_object()) return std::nullopt;
  if (schema.value("type", Json()) == "object") {
    if (schema.value("additionalProperties", Json(true)) != false)
      return where + ": additionalProperties must be false in strict mode";
    const Json props = schema.value("properties", Json::object());
    const Json required = schema.value("required", Json::array());
    for (auto& [name, property] : props.items()) {
      if (std::find(required.begin(), required.end(), name) == required.end())
        return where + ": property '" + name + "' must be in required in strict mode";
      if (auto v = strict_schema_violation(property, where + "." + name)) return v;
    }
  }
  for (const char* key : {"anyOf", "items"})
    if (auto it = schema.find(key); it != schema.end()) {
      if (it->is_array()) {
        for (const Json& option : *it)
          if (auto v = strict_schema_violation(option, where)) return v;
      } else if (auto v = strict_schema_violation(*it, where)) {
        return v;
      }
    }
  return std::nullopt;
}

std::optional<std::string> strict_tool_violation(const Json& tools, bool beta) {
  for (const Json& tool : tools) {
    const Json function = tool.value("function", Json::object());
    if (!function.value("strict", false)) continue;
    const std::string name = function.value("name", "");
    if (!beta)
      return "strict mode of function '" + name +
             "' is only available on the beta endpoint (base_url https://api.deepseek.com/beta)";
    if (auto v = strict_schema_violation(function.value("parameters", Json::object()),
                                         "Invalid schema for function '" + name + "'"))
      return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ScriptedReply> FakeDeepSeek::check_rules(const RecordedRequest& r) const {
  auto auth = r.headers.find("authorization");
  if (auth == r.headers.end() || auth->second != "Bearer " + api_key_)
    return error_reply(401, "Authentication Fails, Your api key is invalid",
                       "authentication_error");
  if (r.json.is_null() || !r.json.is_object())
    return error_reply(400, "Failed to deserialize the JSON body into the target type",
                       "invalid_request_error");
  if (r.path != "/chat/completions" && r.path != "/beta/chat/completions")
    return error_reply(404, "Not Found: " + r.path, "invalid_request_error");
  const Json& messages = r.json.value("messages", Json::array());
  if (auto violation = strict_tool_violation(r.json.value("tools", Json::array()),
                                             r.path.starts_with("/beta/")))
    return error_reply(400, *violation, "invalid_request_error", "tools");
  if (r.json.value("response_format", Json::object()).value("type", "") == "json_object") {
    bool said = false;
    for (const Json& m : messages) {
      std::string role = m.value("role", ""), text = m.value("content", "");
      std::transform(text.begin(), text.end(), text.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      said |= (role == "system" || role == "user") && text.find("json") != std::string::npos;
    }
    if (!said)
      return error_reply(400,
                         "Prompt must contain the word 'json' in some form to use "
                         "'response_format' of type 'json_object'.",
                         "invalid_request_error", "response_format");
  }
  // Thinking is on unless the request turns it off.
  bool thinking = true;
  if (auto t = r.json.find("thinking"); t != r.json.end() && t->is_object())
    thinking = t->value("type", "enabled") != "disabled";
  size_t last_user = 0;
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].value("role", "") == "user") last_user = i;
  std::map<std::string, bool> open_calls;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string role = m.value("role", "");
    if (role == "assistant" && m.contains("tool_calls") && !m["tool_calls"].empty()) {
      bool needs = thinking && (i > last_user || everywhere_);
      if (needs && !(m.contains("reasoning_content") && m["reasoning_content"].is_string()))
        return error_reply(400, kReasoningContentError, "invalid_request_error");
      for (const Json& c : m["tool_calls"]) open_calls[c.value("id", "")] = true;
    }
    if (role == "tool" && !open_calls.count(m.value("tool_call_id", "")))
      return error_reply(400,
                         "Messages with role 'tool' must be a response to a preceding message with "
                         "'tool_calls'",
                         "invalid_request_error");
  }
  return std::nullopt;
}

}  // namespace dsv4::test
