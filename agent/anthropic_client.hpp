#pragma once
// The Anthropic Messages API client: POST {base_url}/v1/messages with x-api-key, to
// Anthropic or to DeepSeek's compatible endpoint (https://api.deepseek.com/anthropic).
// Streaming or not; thinking requested with a budget and sent back with its signature;
// 429, 5xx and 529 (overloaded) retried with backoff, then the fallback model.
#include "agent/model_client.hpp"
#include "agent/remote_model.hpp"

namespace dsv4::agent {

inline constexpr const char* kAnthropicVersion = "2023-06-01";

// budget_tokens for `thinking` within `max_tokens`: half of it for high, all but an
// answer's room for max; the API wants at least 1024 and less than max_tokens, so a
// max_tokens too small for that throws ModelError (invalid_parameter).
int thinking_budget(Thinking thinking, int max_tokens);

class AnthropicClient : public ModelClient {
 public:
  explicit AnthropicClient(RemoteConfig config) : config_(std::move(config)) {}
  ChatResponse complete(const ChatRequest& request, const EventSink& sink) override;

 private:
  RemoteConfig config_;
};

}  // namespace dsv4::agent
