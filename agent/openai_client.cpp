#include "agent/openai_client.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "agent/http.hpp"
#include "agent/reasoning.hpp"
#include "agent/strict_schema.hpp"
#include "agent/sse.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

std::string_view thinking_name(Thinking thinking) {
  switch (thinking) {
    case Thinking::off:
      return "off";
    case Thinking::high:
      return "high";
    case Thinking::max:
      return "max";
  }
  return "?";
}

Thinking parse_thinking(std::string_view name) {
  if (name == "off") return Thinking::off;
  if (name == "high") return Thinking::high;
  if (name == "max") return Thinking::max;
  throw std::invalid_argument("thinking must be off, high or max, not '" + std::string(name) + "'");
}

Usage& Usage::operator+=(const Usage& o) {
  input += o.input;
  cache_hit += o.cache_hit;
  cache_miss += o.cache_miss;
  output += o.output;
  return *this;
}

Provider parse_provider(std::string_view name) {
  if (name == "deepseek") return Provider::deepseek;
  if (name == "vllm") return Provider::vllm;
  if (name == "sglang") return Provider::sglang;
  if (name == "generic") return Provider::generic;
  throw std::invalid_argument("provider must be deepseek, vllm, sglang or generic, not '" +
                              std::string(name) + "'");
}

std::string apply_model_alias(std::string& model, Thinking& thinking) {
  if (model != "deepseek-chat" && model != "deepseek-reasoner") return {};
  std::string note =
      "note: '" + model + "' is a deprecated alias; using deepseek-v4-flash with thinking ";
  if (model == "deepseek-chat") {
    thinking = Thinking::off;
  } else if (thinking == Thinking::off) {
    thinking = Thinking::high;
  }
  model = "deepseek-v4-flash";
  return note + std::string(thinking_name(thinking));
}

namespace {

// What one attempt came to.
struct Attempt {
  enum class Outcome { done, retry, repair, fail } outcome = Outcome::fail;
  ChatResponse response;
  std::string why;  // for retry notices and failures
  std::chrono::milliseconds retry_after{-1};
  ModelError::Kind kind = ModelError::Kind::protocol;
  int status = 0;
};

Usage parse_usage(const Json& u) {
  Usage usage;
  usage.input = u.value("prompt_tokens", 0L);
  usage.output = u.value("completion_tokens", 0L);
  if (u.contains("prompt_cache_hit_tokens") || u.contains("prompt_cache_miss_tokens")) {
    usage.cache_hit = u.value("prompt_cache_hit_tokens", 0L);
    usage.cache_miss = u.value("prompt_cache_miss_tokens", usage.input - usage.cache_hit);
  } else {
    const Json details = u.value("prompt_tokens_details", Json::object());
    usage.cache_hit = details.is_object() ? details.value("cached_tokens", 0L) : 0L;
    usage.cache_miss = usage.input - usage.cache_hit;
  }
  return usage;
}

// The error message inside an API error body, or the body itself.
std::string error_message(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      std::string message = e["message"].get<std::string>();
      if (e.contains("param") && e["param"].is_string())
        message += " (parameter: " + e["param"].get<std::string>() + ")";
      return message;
    }
  }
  if (j.is_object() && j.contains("detail")) return j["detail"].dump();  // FastAPI servers
  return body.empty() ? "(empty body)" : body;
}

std::chrono::milliseconds parse_retry_after(const std::string& value) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0)
    return std::chrono::milliseconds{-1};  // HTTP dates are rare here; backoff decides
  return std::chrono::milliseconds{static_cast<long>(seconds * 1000)};
}

// DeepSeek's rule for JSON output: the system or a user message says "json".
bool mentions_json(const std::vector<Message>& messages) {
  for (const Message& m : messages) {
    if (m.role != Role::system && m.role != Role::user) continue;
    std::string lower = m.content;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower.find("json") != std::string::npos) return true;
  }
  return false;
}

Json request_body(const OpenAiConfig& config, const ChatRequest& request, const std::string& model,
                  const Json& messages) {
  const bool on = request.thinking != Thinking::off;
  const std::string effort(thinking_name(request.thinking));
  Json body = {{"model", model},
               {"messages", messages},
               {"max_tokens", request.max_tokens},
               {"stream", config.stream}};
  if (config.stream) body["stream_options"] = {{"include_usage", true}};
  if (!request.tools_json.empty()) {
    Json tools = Json::parse(request.tools_json);
    if (config.strict_tools)
      for (Json& tool : tools) {
        Json& function = tool["function"];
        if (auto closed = strict_schema(function.value("parameters", Json::object()))) {
          function["parameters"] = std::move(*closed);
          function["strict"] = true;
        }
      }
    if (!tools.empty()) body["tools"] = std::move(tools);
  }
  if (config.json_output) body["response_format"] = {{"type", "json_object"}};
  switch (config.provider) {
    case Provider::deepseek:
      body["thinking"] = {{"type", on ? "enabled" : "disabled"}};
      if (on) body["reasoning_effort"] = effort;
      break;
    case Provider::vllm:
    case Provider::sglang:
      body["chat_template_kwargs"] = {{"thinking", on}};
      if (on) body["chat_template_kwargs"]["reasoning_effort"] = effort;
      break;
    case Provider::generic:
      break;
  }
  return body;
}

// Builds the assistant message from streamed or whole chunks and reports events.
class Assembler {
 public:
  explicit Assembler(const EventSink& sink) : sink_(sink) {}

  // One choice delta (streaming) or message (whole).
  void add(const Json& delta) {
    // DeepSeek and SGLang say reasoning_content, newer vLLM says reasoning.
    for (const char* key : {"reasoning_content", "reasoning"}) {
      if (!has(delta, key)) continue;
      std::string r = delta[key].get<std::string>();
      saw_reasoning_ = true;
      reasoning_ += r;
      if (!r.empty()) emit(text_event(StreamEventKind::reasoning_delta, r));
      break;
    }
    if (auto c = text_of(delta, "content"); !c.empty()) {
      content_ += c;
      emit(text_event(StreamEventKind::content_delta, c));
    }
    if (auto it = delta.find("tool_calls"); it != delta.end() && it->is_array()) {
      int position = 0;
      for (const Json& tc : *it) {
        int index = tc.contains("index") && tc["index"].is_number_integer() ? tc["index"].get<int>()
                                                                            : position;
        ++position;
        auto [slot, fresh] = calls_.try_emplace(index);
        const Json function = tc.value("function", Json::object());
        if (auto id = text_of(tc, "id"); !id.empty()) slot->second.id = id;
        if (auto name = text_of(function, "name"); !name.empty()) slot->second.name += name;
        if (fresh)
          emit({StreamEventKind::tool_call_start,
                "",
                index,
                slot->second.id,
                slot->second.name,
                {}});
        if (auto args = text_of(function, "arguments"); !args.empty()) {
          slot->second.arguments += args;
          emit({StreamEventKind::tool_call_delta, args, index, {}, {}, {}});
        }
      }
    }
  }
  void finish_reason(const std::string& reason) { finish_ = reason; }
  void usage(const Usage& usage) {
    usage_ = usage;
    emit({StreamEventKind::usage, "", 0, "", "", usage});
  }
  bool finished() const { return !finish_.empty(); }

  ChatResponse result(const std::string& model) {
    ChatResponse r;
    r.message.role = Role::assistant;
    r.message.content = content_;
    if (saw_reasoning_) r.message.reasoning_content = reasoning_;
    for (auto& [index, call] : calls_) {
      if (call.id.empty()) call.id = "call_" + std::to_string(index);
      r.message.tool_calls.push_back(call);
      emit({StreamEventKind::tool_call_end, "", index, call.id, call.name, {}});
    }
    r.usage = usage_;
    r.finish_reason = finish_;
    r.model = model;
    emit(text_event(StreamEventKind::finish, finish_));
    return r;
  }

 private:
  static bool has(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string();
  }
  static std::string text_of(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  void emit(StreamEvent event) {
    if (sink_) sink_(event);
  }

  const EventSink& sink_;
  std::string reasoning_, content_, finish_;
  bool saw_reasoning_ = false;
  std::map<int, ToolCall> calls_;
  Usage usage_;
};

// Feeds one chunk object (a stream event or the whole response) to the assembler;
// returns an error text when the chunk is an error report.
std::string take_chunk(const Json& chunk, Assembler& assembler, bool whole) {
  if (chunk.contains("error")) return error_message(chunk.dump());
  if (auto it = chunk.find("choices"); it != chunk.end() && it->is_array() && !it->empty()) {
    const Json& choice = (*it)[0];
    const char* key = whole ? "message" : "delta";
    if (choice.contains(key) && choice[key].is_object()) assembler.add(choice[key]);
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
      assembler.finish_reason(choice["finish_reason"].get<std::string>());
  }
  if (auto it = chunk.find("usage"); it != chunk.end() && it->is_object())
    assembler.usage(parse_usage(*it));
  return {};
}

Attempt attempt_once(const OpenAiConfig& config, const std::string& model, const Json& body,
                     const EventSink& sink) {
  Attempt a;
  HttpRequest http;
  std::string base = config.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (config.strict_tools && config.provider == Provider::deepseek && !base.ends_with("/beta"))
    base += "/beta";
  http.url = base + "/chat/completions";
  // "Expect:" stops libcurl from waiting for a 100 Continue before sending large bodies.
  http.headers = {"Content-Type: application/json", "Expect:",
                  config.stream ? "Accept: text/event-stream" : "Accept: application/json"};
  if (!config.api_key.empty()) http.headers.push_back("Authorization: Bearer " + config.api_key);
  http.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  http.idle_timeout = config.idle_timeout;
  http.cancel = config.cancel;

  Assembler assembler(sink);
  std::string whole_body, stream_error;
  bool bad_chunk = false;
  SseParser sse([&](std::string_view data) {
    if (data == "[DONE]") return;  // some servers omit it; the finish reason is what counts
    Json chunk = Json::parse(data, nullptr, false);
    if (chunk.is_discarded()) {
      bad_chunk = true;
      return;
    }
    if (auto e = take_chunk(chunk, assembler, false); !e.empty()) stream_error = e;
  });
  HttpResponse response = http_post(http, [&](std::string_view bytes) {
    if (config.stream)
      sse.feed(bytes);
    else
      whole_body.append(bytes);
  });
  a.status = response.status;
  a.retry_after = parse_retry_after(response.retry_after);

  if (response.status >= 200 && response.status < 300) {
    if (!config.stream && response.error.empty()) {
      Json j = Json::parse(whole_body, nullptr, false);
      if (j.is_discarded()) {
        a.outcome = Attempt::Outcome::retry;
        a.why = "the response was not JSON";
        return a;
      }
      if (auto e = take_chunk(j, assembler, true); !e.empty()) stream_error = e;
    }
    if (!stream_error.empty()) {
      a.outcome = Attempt::Outcome::retry;
      a.why = "the server reported an error mid-stream: " + stream_error;
    } else if (!assembler.finished()) {
      a.outcome = Attempt::Outcome::retry;
      a.why = response.error.empty()
                  ? (bad_chunk ? "a stream chunk was not JSON" : "the stream ended early")
                  : "the stream broke: " + response.error;
    } else {
      a.outcome = Attempt::Outcome::done;
      a.response = assembler.result(model);
    }
    return a;
  }
  if (response.status == 0) {
    a.outcome = Attempt::Outcome::retry;
    a.why = "no response: " + response.error;
    return a;
  }
  const std::string message = error_message(response.body);
  const std::string status = "HTTP " + std::to_string(response.status);
  switch (response.status) {
    case 400:
      a.kind = ModelError::Kind::bad_request;
      a.outcome = message.find("reasoning_content") != std::string::npos ? Attempt::Outcome::repair
                                                                         : Attempt::Outcome::fail;
      a.why = status + " bad request: " + response.body;
      return a;
    case 401:
    case 403:
      a.kind = ModelError::Kind::auth;
      a.why = status + ": check your API key (" + config.api_key_name + "): " + message;
      return a;
    case 402:
      a.kind = ModelError::Kind::balance;
      a.why = status + ": insufficient balance on the account: " + message;
      return a;
    case 422:
      a.kind = ModelError::Kind::invalid_parameter;
      a.why = status + ": the server rejected a parameter: " + message;
      return a;
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      a.outcome = Attempt::Outcome::retry;
      a.why = status + ": " + message;
      return a;
    default:
      a.kind = ModelError::Kind::bad_request;
      a.why = status + ": " + message;
      return a;
  }
}

}  // namespace

ChatResponse OpenAiClient::complete(const ChatRequest& request, const EventSink& sink) {
  const bool thinking = request.thinking != Thinking::off;
  if (config_.json_output && !mentions_json(request.messages))
    throw ModelError(ModelError::Kind::invalid_parameter, 0,
                     "JSON output needs the word \"json\" somewhere in the prompt (the API refuses "
                     "it otherwise); say in the task that the answer is a JSON object");
  Json messages = request_messages(request.messages, thinking);
  auto notice = [&](const std::string& text) {
    if (sink) sink(text_event(StreamEventKind::notice, text));
  };
  // Every failure is reported as an event too, for front ends that only watch events.
  auto fail = [&](ModelError::Kind kind, int status, const std::string& why) {
    if (sink) sink(text_event(StreamEventKind::error, why));
    return ModelError(kind, status, why);
  };
  std::mt19937 rng{std::random_device{}()};
  bool repaired = false;
  std::vector<std::string> models = {config_.model};
  if (!config_.fallback_model.empty() && config_.fallback_model != config_.model)
    models.push_back(config_.fallback_model);
  std::string last_why;
  auto cancelled = [&] { return config_.cancel && config_.cancel->load(); };
  for (size_t m = 0; m < models.size(); ++m) {
    if (m > 0) notice("switching to the fallback model " + models[m] + " after: " + last_why);
    for (int attempt = 1; attempt <= config_.max_attempts;) {
      Attempt a = attempt_once(config_, models[m],
                               request_body(config_, request, models[m], messages), sink);
      if (cancelled()) throw fail(ModelError::Kind::unavailable, a.status, "interrupted");
      switch (a.outcome) {
        case Attempt::Outcome::done:
          return std::move(a.response);
        case Attempt::Outcome::repair:
          if (repaired) throw fail(a.kind, a.status, a.why);
          repaired = true;
          give_every_assistant_reasoning(messages);
          notice(
              "the server asked for reasoning_content; resending with it on every assistant "
              "message");
          continue;  // a repair does not spend an attempt
        case Attempt::Outcome::fail:
          throw fail(a.kind, a.status, a.why);
        case Attempt::Outcome::retry:
          break;
      }
      last_why = a.why;
      if (attempt == config_.max_attempts) break;
      // Exponential backoff with jitter, at least what the server asked for.
      auto backoff =
          std::min(config_.backoff_cap, config_.backoff_base * (1L << std::min(attempt - 1, 20)));
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      auto delay = std::chrono::milliseconds{static_cast<long>(backoff.count() * jitter(rng))};
      if (a.retry_after.count() >= 0)
        delay = std::max(delay, std::min(a.retry_after, config_.retry_after_cap));
      notice(a.why + "; retrying in " + std::to_string(delay.count()) + " ms (attempt " +
             std::to_string(attempt + 1) + " of " + std::to_string(config_.max_attempts) + ")");
      auto until = std::chrono::steady_clock::now() + delay;
      while (std::chrono::steady_clock::now() < until) {
        if (cancelled())
          throw fail(ModelError::Kind::unavailable, a.status, "interrupted while waiting to retry");
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            until - std::chrono::steady_clock::now(), std::chrono::milliseconds{50}));
      }
      ++attempt;
    }
  }
  throw fail(ModelError::Kind::unavailable, 0,
             "the model server stayed unavailable after " + std::to_string(config_.max_attempts) +
                 " attempts per model: " + last_why);
}

}  // namespace dsv4::agent
