#pragma once
// Which HTTP model client `dsv4 run --provider P` talks to.
#include <memory>
#include <string>
#include <string_view>

#include "agent/model_client.hpp"
#include "agent/openai_client.hpp"

namespace dsv4::agent {

// "anthropic": the Anthropic Messages API; "deepseek", "vllm", "sglang", "generic": the
// OpenAI-compatible API (`config.provider` is set from the name). Throws
// std::invalid_argument naming the choices otherwise, or when `config` asks the Anthropic API
// for what only the OpenAI-compatible one offers (strict tools, JSON output).
std::unique_ptr<ModelClient> make_remote_client(std::string_view provider, OpenAiConfig config);

// The server when no --base-url is given: DeepSeek's API in the provider's dialect.
std::string default_base_url(std::string_view provider);

}  // namespace dsv4::agent
