#include "agent/openai_client.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/http.hpp"
#include "agent/reasoning.hpp"
#include "agent/strict_schema.hpp"

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
  // DeepSeek serves strict function calling only on its beta endpoint.
  const bool beta = config.strict_tools && config.provider == Provider::deepseek &&
                    !config.base_url.ends_with("/beta") && !config.base_url.ends_with("/beta/");
  HttpRequest http = json_post(config, beta ? "/beta/chat/completions" : "/chat/completions", body);
  if (!config.api_key.empty()) http.headers.push_back("Authorization: Bearer " + config.api_key);

  Assembler assembler(sink);
  std::string whole_body, stream_error;
  bool bad_chunk = false;
  HttpResponse response = post_for_events(
      config, http,
      [&](std::string_view data) {
        if (data == "[DONE]") return;  // some servers omit it; the finish reason is what counts
        Json chunk = Json::parse(data, nullptr, false);
        if (chunk.is_discarded()) {
          bad_chunk = true;
          return;
        }
        if (auto e = take_chunk(chunk, assembler, false); !e.empty()) stream_error = e;
      },
      whole_body);
  if (response.status < 200 || response.status >= 300)
    return failed_attempt(response, config.api_key_name, "reasoning_content");
  if (!config.stream && response.error.empty()) {
    Json j = Json::parse(whole_body, nullptr, false);
    if (j.is_discarded())
      bad_chunk = true;
    else if (auto e = take_chunk(j, assembler, true); !e.empty())
      stream_error = e;
  }
  Attempt a = finished_attempt(response, stream_error, bad_chunk, assembler.finished());
  if (a.outcome == Attempt::Outcome::done) a.response = assembler.result(model);
  return a;
}

}  // namespace

ChatResponse OpenAiClient::complete(const ChatRequest& request, const EventSink& sink) {
  if (config_.json_output && !mentions_json(request.messages))
    throw ModelError(ModelError::Kind::invalid_parameter, 0,
                     "JSON output needs the word \"json\" somewhere in the prompt (the API refuses "
                     "it otherwise); say in the task that the answer is a JSON object");
  Json messages = request_messages(request.messages, request.thinking != Thinking::off);
  return complete_with_retries(
      config_, sink,
      [&](const std::string& model) {
        return attempt_once(config_, model, request_body(config_, request, model, messages), sink);
      },
      [&] {
        give_every_assistant_reasoning(messages);
        return std::string(
            "the server asked for reasoning_content; resending with it on every assistant "
            "message");
      });
}

}  // namespace dsv4::agent
