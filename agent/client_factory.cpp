#include "agent/client_factory.hpp"

#include <stdexcept>

#include "agent/anthropic_client.hpp"
#include "agent/openai_client.hpp"

namespace dsv4::agent {

std::unique_ptr<ModelClient> make_remote_client(std::string_view provider,
                                                const RemoteConfig& config) {
  if (provider == "anthropic") return std::make_unique<AnthropicClient>(config);
  OpenAiConfig openai;
  static_cast<RemoteConfig&>(openai) = config;
  try {
    openai.provider = parse_provider(provider);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(
        "provider must be deepseek, vllm, sglang, generic or anthropic, not '" +
        std::string(provider) + "'");
  }
  return std::make_unique<OpenAiClient>(std::move(openai));
}

std::string default_base_url(std::string_view provider) {
  return provider == "anthropic" ? "https://api.deepseek.com/anthropic"
                                 : "https://api.deepseek.com";
}

}  // namespace dsv4::agent
