#pragma once
// The OpenAI-compatible /chat/completions client (DeepSeek API, vLLM, SGLang, others):
// streaming or not, thinking requested the way each provider expects, reasoning_content
// sent back by DeepSeek's rules, transient failures retried, then a fallback model.
#include <atomic>
#include <chrono>
#include <string>

#include "agent/model_client.hpp"

namespace dsv4::agent {

enum class Provider { deepseek, vllm, sglang, generic };
// "deepseek", "vllm", "sglang", "generic"; throws std::invalid_argument otherwise.
Provider parse_provider(std::string_view name);

struct OpenAiConfig {
  std::string base_url;  // e.g. https://api.deepseek.com (the client adds /chat/completions)
  std::string api_key;   // "" sends no Authorization header
  std::string api_key_name = "DEEPSEEK_API_KEY";  // named in the "check your API key" error
  std::string model = "deepseek-v4-flash";
  std::string fallback_model;  // used once the model's retries are spent; "" for none
  Provider provider = Provider::deepseek;
  bool stream = true;
  // Tools sent with `strict: true` and closed schemas, so the server constrains the arguments
  // (DeepSeek: only on its beta endpoint, which the client then uses).
  bool strict_tools = false;
  // response_format json_object: every reply's content is one JSON object. DeepSeek wants the
  // word "json" in the prompt; the client checks that before sending.
  bool json_output = false;
  int max_attempts = 5;  // per model, for 429/5xx/timeouts/dropped streams
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  std::chrono::milliseconds retry_after_cap{60000};  // longest Retry-After honoured
  std::chrono::seconds idle_timeout{120};
  const std::atomic<bool>* cancel = nullptr;  // set: stop waiting between attempts
};

// deepseek-chat / deepseek-reasoner become deepseek-v4-flash with thinking off / on;
// returns the one-line deprecation note, or "" when `model` is no old alias.
std::string apply_model_alias(std::string& model, Thinking& thinking);

class OpenAiClient : public ModelClient {
 public:
  explicit OpenAiClient(OpenAiConfig config) : config_(std::move(config)) {}
  ChatResponse complete(const ChatRequest& request, const EventSink& sink) override;

 private:
  OpenAiConfig config_;
};

}  // namespace dsv4::agent
