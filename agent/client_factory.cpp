#include "agent/client_factory.hpp"

#include <stdexcept>

#include "agent/anthropic_client.hpp"
#include "agent/openai_client.hpp"

namespace dsv4::agent {

std::unique_ptr<ModelClient> make_remote_client(std::string_view provider, OpenAiConfig config) {
  if (provider == "anthropic") {
    if (config.strict_tools || config.json_output)
      throw std::invalid_argument(
          "--strict-tools and --json-answer need an OpenAI-compatible provider (the Anthropic "
          "API has neither); drop them or use --provider deepseek");
    return std::make_unique<AnthropicClient>(config);
  }
  try {
    config.provider = parse_provider(provider);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(
        "provider must be deepseek, vllm, sglang, generic or anthropic, not '" +
        std::string(provider) + "'");
  }
  return std::make_unique<OpenAiClient>(std::move(config));
}

std::string default_base_url(std::string_view provider) {
  return provider == "anthropic" ? "https://api.deepseek.com/anthropic"
                                 : "https://api.deepseek.com";
}

}  // namespace dsv4::agent
