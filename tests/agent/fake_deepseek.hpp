#pragma once
// A scripted DeepSeek-like /chat/completions server on 127.0.0.1 for the agent tests. It
// serves scripted replies in order (SSE streams, JSON bodies, errors, cut streams) and,
// before any script step, enforces the real API's rules, answering 400 exactly where
// DeepSeek would. It records every request so that tests can assert what the client sent.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/agent/loopback_server.hpp"

namespace dsv4::test {

// DeepSeek's error text when a thinking-mode tool turn lacks its reasoning_content.
inline constexpr const char* kReasoningContentError =
    "The `reasoning_content` in the thinking mode must be passed back to the API.";

struct ToolCallSpec {
  std::string id, name, arguments;
};

struct TurnSpec {
  std::string reasoning;  // "" sends no reasoning_content at all
  std::string content;
  std::vector<ToolCallSpec> calls;
  long prompt_tokens = 100, cache_hit = 60, completion_tokens = 20;
  bool openai_usage = false;  // prompt_tokens_details.cached_tokens instead of DeepSeek's fields
};

// A turn as DeepSeek streams it: role chunk, reasoning and content in pieces, tool calls
// (id and name first, arguments in pieces), the finish reason, a usage chunk, [DONE].
ScriptedReply sse_turn(const TurnSpec& turn);
// The same turn as one JSON response (stream: false).
ScriptedReply json_turn(const TurnSpec& turn);
// An API error: {"error": {"message", "type", "param", "code"}}.
ScriptedReply error_reply(int status, const std::string& message, const std::string& type,
                          const std::string& param = "");

class FakeDeepSeek {
 public:
  explicit FakeDeepSeek(std::vector<ScriptedReply> script, std::string api_key = "sk-test");
  FakeDeepSeek(const FakeDeepSeek&) = delete;
  FakeDeepSeek& operator=(const FakeDeepSeek&) = delete;

  std::string base_url() const { return server_.base_url(); }
  std::vector<RecordedRequest> requests() const { return server_.requests(); }
  // Also demand reasoning_content on assistant tool-call turns before the last user
  // message (what some DeepSeek deployments were reported to do).
  void require_reasoning_everywhere(bool on) { everywhere_ = on; }

 private:
  ScriptedReply reply(const RecordedRequest& request);
  // The 400/401 the real API would answer, or nothing.
  std::optional<ScriptedReply> check_rules(const RecordedRequest& request) const;

  std::string api_key_;
  std::atomic<bool> everywhere_{false};
  std::mutex mutex_;
  std::vector<ScriptedReply> script_;
  size_t next_ = 0;
  LoopbackServer server_;  // last: its thread starts once the members above exist
};

}  // namespace dsv4::test
