#include "tests/agent/fake_deepseek.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

namespace dsv4::test {

using Json = nlohmann::json;

namespace {

// Splits text into pieces of at most n bytes (whole UTF-8 sequences), as servers stream it.
std::vector<std::string> pieces(const std::string& text, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    size_t end = std::min(text.size(), i + n);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

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

bool send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
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
    : api_key_(std::move(api_key)), script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeDeepSeek::~FakeDeepSeek() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string FakeDeepSeek::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<RecordedRequest> FakeDeepSeek::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeDeepSeek::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{5, 0};  // a stuck client cannot hold the server (and the test) forever
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    handle(fd);
    ::close(fd);
  }
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

void FakeDeepSeek::handle(int fd) {
  std::string data;
  char buffer[65536];
  size_t header_end = std::string::npos;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    data.append(buffer, static_cast<size_t>(n));
  }
  RecordedRequest request;
  std::string head = data.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  request.method = request_line.substr(0, request_line.find(' '));
  size_t path_start = request_line.find(' ') + 1;
  request.path = request_line.substr(path_start, request_line.find(' ', path_start) - path_start);
  for (size_t pos = line_end + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    request.headers[name] = value;
  }
  if (request.headers.count("expect")) send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  size_t length =
      request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
  request.body = data.substr(header_end + 4);
  while (request.body.size() < length) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.body.append(buffer, static_cast<size_t>(n));
  }
  request.json = Json::parse(request.body, nullptr, false);
  if (request.json.is_discarded()) request.json = nullptr;

  ScriptedReply reply;
  if (auto refusal = check_rules(request)) {
    reply = *refusal;
  } else {
    std::lock_guard lock(mutex_);
    reply = next_ < script_.size()
                ? script_[next_++]
                : error_reply(500, "fake server: the script has no more replies", "server_error");
  }
  request.status = reply.status;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }
  std::string response =
      "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) + "\r\n";
  for (const auto& [name, value] : reply.headers) response += name + ": " + value + "\r\n";
  response += "Connection: close\r\n";
  if (reply.sse.empty()) {
    response +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
        "\r\n\r\n" + reply.body;
    send_all(fd, response);
    return;
  }
  response += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
  send_all(fd, response);
  size_t count = reply.cut ? reply.sse.size() / 2 : reply.sse.size();
  for (size_t i = 0; i < count; ++i) {
    std::string event = "data: " + reply.sse[i] + "\n\n";
    if (reply.cut && i + 1 == count) event = event.substr(0, event.size() / 2);  // mid-event
    if (!send_all(fd, event)) return;
    if (i % 4 == 0) send_all(fd, ": keep-alive\n\n");
  }
}

}  // namespace dsv4::test
