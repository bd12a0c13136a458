#pragma once
// The local engine as a model client: a DeepSeek-V4 model folder loaded once and run in-process.
// Requests render with the official V4 chat encoding, and the KV state of the previous requests
// is kept in memory, so a request that extends the conversation computes only its new tokens.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/model_client.hpp"
#include "engine/chat.hpp"
#include "engine/sampling.hpp"

namespace dsv4::agent {

struct LocalConfig {
  // config.json, the safetensors and tokenizer.json / tokenizer_config.json (as `dsv4 model
  // synth --tokenizer` writes them).
  std::filesystem::path model_dir;
  engine::SamplingParams sampling;  // greedy by default; DSML markup is always greedy
  int threads = 0;                  // 0: every core
  // States kept besides the newest, to restart from when a request diverges from it.
  int max_snapshots = 4;
  const std::atomic<bool>* cancel = nullptr;  // set: stop between tokens, ModelError "interrupted"
};

// The request as the V4 encoding sees it: the tools ride on the first system message (an empty
// one is put first when there is none), reasoning_content becomes the reasoning. Tool-call
// arguments that are no JSON object go as one string parameter `arguments`, as the upstream
// encoder does, so a model's broken call can still be shown to it.
std::vector<engine::Message> encoding_messages(const ChatRequest& request);
// The prompt text: the messages rendered by the official rules for request.thinking (drop_thinking
// on, which the encoder turns off when tools are declared). Throws std::invalid_argument.
std::string render_prompt(const ChatRequest& request);

class LocalClient : public ModelClient {
 public:
  // Loads the model and tokenizer; throws std::runtime_error naming the file and the problem.
  explicit LocalClient(LocalConfig config);
  ~LocalClient() override;
  ChatResponse complete(const ChatRequest& request, const EventSink& sink) override;

  // The token ids of the last request, for checks: its whole prompt and what was generated.
  struct LastRequest {
    std::vector<int32_t> prompt, generated;
  };
  const LastRequest& last() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsv4::agent
