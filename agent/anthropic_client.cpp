#include "agent/anthropic_client.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "agent/anthropic_messages.hpp"
#include "agent/http.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

int thinking_budget(Thinking thinking, int max_tokens) {
  constexpr int kMinimum = 1024;  // the API's floor for budget_tokens
  int budget =
      thinking == Thinking::max ? max_tokens - std::min(4096, max_tokens / 4) : max_tokens / 2;
  budget = std::max(budget, kMinimum);
  if (budget >= max_tokens)
    throw ModelError(ModelError::Kind::invalid_parameter, 0,
                     "thinking needs max_tokens above " + std::to_string(kMinimum) +
                         " on the Anthropic API (budget_tokens must be at least " +
                         std::to_string(kMinimum) + " and below max_tokens, which is " +
                         std::to_string(max_tokens) +
                         "): raise --max-tokens or use --thinking off");
  return budget;
}

namespace {

// `budget`: budget_tokens when thinking is on.
Json request_body(const RemoteConfig& config, const ChatRequest& request, const std::string& model,
                  const Json& messages, int budget) {
  Json body = {{"model", model},
               {"max_tokens", request.max_tokens},
               {"messages", messages},
               {"stream", config.stream}};
  if (std::string system = anthropic_system(request.messages); !system.empty())
    body["system"] = std::move(system);
  if (Json tools = anthropic_tools(request.tools_json); !tools.empty())
    body["tools"] = std::move(tools);
  if (request.thinking == Thinking::off) {
    // Explicit, since DeepSeek's endpoint thinks unless told not to.
    body["thinking"] = {{"type", "disabled"}};
  } else {
    body["thinking"] = {{"type", "enabled"}, {"budget_tokens", budget}};
    // DeepSeek ignores the budget and reads the effort instead; high is the default.
    if (request.thinking == Thinking::max) body["output_config"] = {{"effort", "max"}};
  }
  return body;
}

std::string finish_reason(const std::string& stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "refusal") return "content_filter";
  return stop_reason;
}

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Builds the assistant message from the stream's events (or the whole message's content
// blocks, fed as the same events) and reports what it learns.
class Assembler {
 public:
  explicit Assembler(const EventSink& sink) : sink_(sink) {}

  // One stream event; returns the error text when the event is an error report.
  std::string event(const Json& e) {
    const std::string type = text_of(e, "type");
    if (type == "error") return error_message(e.dump());
    if (type == "message_start" && e.contains("message")) {
      if (auto u = e["message"].find("usage"); u != e["message"].end()) usage(*u);
    } else if (type == "content_block_start") {
      start_block(e.value("index", 0), e.value("content_block", Json::object()));
    } else if (type == "content_block_delta") {
      delta(e.value("index", 0), e.value("delta", Json::object()));
    } else if (type == "content_block_stop") {
      stop_block(e.value("index", 0));
    } else if (type == "message_delta") {
      if (auto d = e.find("delta"); d != e.end() && d->is_object())
        if (auto s = text_of(*d, "stop_reason"); !s.empty()) stop_reason_ = s;
      if (auto u = e.find("usage"); u != e.end()) usage(*u);
    } else if (type == "message_stop") {
      stopped_ = true;
    }
    return {};  // ping and events of later API versions carry nothing the agent needs
  }

  // A whole (non-streamed) message; returns the error text when it is an error report.
  std::string whole(const Json& message) {
    if (text_of(message, "type") == "error") return error_message(message.dump());
    if (auto u = message.find("usage"); u != message.end()) usage(*u);
    if (auto c = message.find("content"); c != message.end() && c->is_array())
      for (size_t i = 0; i < c->size(); ++i) {
        start_block(static_cast<int>(i), (*c)[i]);
        stop_block(static_cast<int>(i));
      }
    stop_reason_ = text_of(message, "stop_reason");
    stopped_ = !stop_reason_.empty();
    return {};
  }

  bool finished() const { return stopped_; }

  ChatResponse result(const std::string& model) {
    ChatResponse r;
    r.message.role = Role::assistant;
    r.message.content = content_;
    if (saw_thinking_) r.message.reasoning_content = reasoning_;
    if (saw_signature_) r.message.reasoning_signature = signature_;
    r.message.tool_calls = calls_;
    r.usage.cache_hit = cache_read_;
    // Anthropic counts cached and cache-written prompt tokens apart from input_tokens.
    r.usage.input = input_ + cache_read_ + cache_write_;
    r.usage.cache_miss = r.usage.input - r.usage.cache_hit;
    r.usage.output = output_;
    r.finish_reason = finish_reason(stop_reason_);
    r.model = model;
    emit({StreamEventKind::usage, "", 0, "", "", r.usage});
    for (size_t i = 0; i < calls_.size(); ++i)
      emit({StreamEventKind::tool_call_end,
            "",
            static_cast<int>(i),
            calls_[i].id,
            calls_[i].name,
            {}});
    emit(text_event(StreamEventKind::finish, r.finish_reason));
    return r;
  }

 private:
  struct Block {
    std::string type;
    int call = -1;  // tool_use: its place in calls_
    Json input;     // tool_use: the input object the block started with
  };

  void start_block(int index, const Json& b) {
    Block& block = blocks_[index];
    block.type = text_of(b, "type");
    if (block.type == "thinking") {
      saw_thinking_ = true;
      add_thinking(text_of(b, "thinking"));
      if (b.contains("signature") && b["signature"].is_string()) add_signature(b["signature"]);
    } else if (block.type == "text") {
      add_text(text_of(b, "text"));
    } else if (block.type == "tool_use") {
      block.call = static_cast<int>(calls_.size());
      block.input = b.value("input", Json::object());
      calls_.push_back({text_of(b, "id"), text_of(b, "name"), ""});
      emit({StreamEventKind::tool_call_start,
            "",
            block.call,
            calls_.back().id,
            calls_.back().name,
            {}});
    }
  }

  void delta(int index, const Json& d) {
    const std::string type = text_of(d, "type");
    if (type == "text_delta") {
      add_text(text_of(d, "text"));
    } else if (type == "thinking_delta") {
      add_thinking(text_of(d, "thinking"));
    } else if (type == "signature_delta") {
      add_signature(text_of(d, "signature"));
    } else if (type == "input_json_delta") {
      auto it = blocks_.find(index);
      if (it == blocks_.end() || it->second.call < 0) return;
      add_arguments(it->second.call, text_of(d, "partial_json"));
    }
  }

  // A tool_use block streams its input as JSON pieces; one that came whole (or with no
  // pieces) takes the input object it started with.
  void stop_block(int index) {
    auto it = blocks_.find(index);
    if (it == blocks_.end() || it->second.call < 0) return;
    if (calls_[it->second.call].arguments.empty())
      add_arguments(it->second.call, it->second.input.is_object() ? it->second.input.dump() : "{}");
  }

  void add_text(const std::string& text) {
    if (text.empty()) return;
    content_ += text;
    emit(text_event(StreamEventKind::content_delta, text));
  }
  void add_thinking(const std::string& text) {
    if (text.empty()) return;
    reasoning_ += text;
    emit(text_event(StreamEventKind::reasoning_delta, text));
  }
  void add_signature(const std::string& signature) {
    saw_signature_ = true;
    signature_ += signature;
  }
  void add_arguments(int call, const std::string& piece) {
    if (piece.empty()) return;
    calls_[call].arguments += piece;
    emit({StreamEventKind::tool_call_delta, piece, call, {}, {}, {}});
  }
  // Later events repeat or complete the counts of earlier ones, so each field present wins.
  void usage(const Json& u) {
    if (!u.is_object()) return;
    auto take = [&](const char* key, long& into) {
      if (auto it = u.find(key); it != u.end() && it->is_number_integer()) into = it->get<long>();
    };
    take("input_tokens", input_);
    take("cache_read_input_tokens", cache_read_);
    take("cache_creation_input_tokens", cache_write_);
    take("output_tokens", output_);
  }
  void emit(StreamEvent event) {
    if (sink_) sink_(event);
  }

  const EventSink& sink_;
  std::map<int, Block> blocks_;
  std::string reasoning_, signature_, content_, stop_reason_;
  bool saw_thinking_ = false, saw_signature_ = false, stopped_ = false;
  std::vector<ToolCall> calls_;
  long input_ = 0, cache_read_ = 0, cache_write_ = 0, output_ = 0;
};

Attempt attempt_once(const RemoteConfig& config, const std::string& model, const Json& body,
                     const EventSink& sink) {
  HttpRequest http = json_post(config, "/v1/messages", body);
  http.headers.push_back(std::string("anthropic-version: ") + kAnthropicVersion);
  if (!config.api_key.empty()) http.headers.push_back("x-api-key: " + config.api_key);

  Assembler assembler(sink);
  std::string whole_body, stream_error;
  bool bad_event = false;
  HttpResponse response = post_for_events(
      config, http,
      [&](std::string_view data) {
        Json e = Json::parse(data, nullptr, false);
        if (e.is_discarded()) {
          bad_event = true;
          return;
        }
        if (auto error = assembler.event(e); !error.empty()) stream_error = error;
      },
      whole_body);
  // DeepSeek's endpoint may want thinking back on more turns than the current one.
  if (response.status < 200 || response.status >= 300)
    return failed_attempt(response, config.api_key_name, "content[].thinking");
  if (!config.stream && response.error.empty()) {
    Json message = Json::parse(whole_body, nullptr, false);
    if (message.is_discarded())
      bad_event = true;
    else
      stream_error = assembler.whole(message);
  }
  Attempt a = finished_attempt(response, stream_error, bad_event, assembler.finished());
  if (a.outcome == Attempt::Outcome::done) a.response = assembler.result(model);
  return a;
}

}  // namespace

ChatResponse AnthropicClient::complete(const ChatRequest& request, const EventSink& sink) {
  const bool thinking = request.thinking != Thinking::off;
  int budget = 0;
  try {
    if (thinking) budget = thinking_budget(request.thinking, request.max_tokens);
  } catch (const ModelError& e) {
    if (sink) sink(text_event(StreamEventKind::error, e.what()));  // as for every failure
    throw;
  }
  Json messages = anthropic_messages(request.messages, thinking);
  return complete_with_retries(
      config_, sink,
      [&](const std::string& model) {
        return attempt_once(config_, model, request_body(config_, request, model, messages, budget),
                            sink);
      },
      [&] {
        messages = anthropic_messages(request.messages, thinking, true);
        return std::string(
            "the server asked for thinking blocks; resending every known one with its "
            "signature");
      });
}

}  // namespace dsv4::agent
