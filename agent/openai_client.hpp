#pragma once
// The OpenAI-compatible /chat/completions client (DeepSeek API, vLLM, SGLang, others):
// streaming or not, thinking requested the way each provider expects, reasoning_content
// sent back by DeepSeek's rules, transient failures retried, then a fallback model.
#include <string>

#include "agent/model_client.hpp"
#include "agent/remote_model.hpp"

namespace dsv4::agent {

enum class Provider { deepseek, vllm, sglang, generic };
// "deepseek", "vllm", "sglang", "generic"; throws std::invalid_argument otherwise.
Provider parse_provider(std::string_view name);

struct OpenAiConfig : RemoteConfig {
  Provider provider = Provider::deepseek;
  // Tools sent with `strict: true` and closed schemas, so the server constrains the arguments
  // (DeepSeek: only on its beta endpoint, which the client then uses).
  bool strict_tools = false;
  // response_format json_object: every reply's content is one JSON object. DeepSeek wants the
  // word "json" in the prompt; the client checks that before sending.
  bool json_output = false;
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
