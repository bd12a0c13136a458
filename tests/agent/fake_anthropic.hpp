#pragma once
// A scripted Anthropic Messages API server (POST /v1/messages) on 127.0.0.1 for the agent
// tests. Before any script step it enforces the real API's rules and answers as the API
// would (401 without the right x-api-key; 400 with Anthropic's error shape for a missing
// anthropic-version or max_tokens, a bad thinking budget, a system role inside messages,
// roles that do not alternate or start with user, empty texts, a tool_use without its
// tool_result in the next user message or the reverse, and, with thinking on, a tool-using
// assistant turn of the current user turn that does not begin with its thinking block, or
// a thinking block whose signature is not the one the server issued for that thinking).
// Signatures are derived from the thinking text, as a real signature covers it.
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/agent/loopback_server.hpp"

namespace dsv4::test {

struct ToolUseSpec {
  std::string id, name, input;  // input: JSON object text
};

struct AnthropicTurn {
  std::string thinking;  // "" sends no thinking block
  std::string text;
  std::vector<ToolUseSpec> calls;
  std::string stop_reason;  // "" for end_turn, or tool_use when there are calls
  long input_tokens = 40, cache_read = 60, cache_write = 0, output_tokens = 20;
  size_t text_piece = 7;   // bytes per text/thinking delta
  size_t input_piece = 9;  // bytes per input_json_delta
};

// The signature the fake server issues for (and demands with) this thinking text.
std::string signature_for(const std::string& thinking);

// A turn as the API streams it: message_start, ping, one content block per part
// (thinking with its signature_delta, text, tool_use with input_json_delta pieces),
// message_delta with the stop reason and usage, message_stop.
ScriptedReply anthropic_sse(const AnthropicTurn& turn);
// The same turn as one JSON message (stream: false).
ScriptedReply anthropic_json(const AnthropicTurn& turn);
// An API error: {"type": "error", "error": {"type", "message"}}.
ScriptedReply anthropic_error(int status, const std::string& type, const std::string& message);

class FakeAnthropic {
 public:
  explicit FakeAnthropic(std::vector<ScriptedReply> script, std::string api_key = "sk-ant-test");
  FakeAnthropic(const FakeAnthropic&) = delete;
  FakeAnthropic& operator=(const FakeAnthropic&) = delete;

  std::string base_url() const { return server_.base_url(); }
  std::vector<RecordedRequest> requests() const { return server_.requests(); }

 private:
  ScriptedReply reply(const RecordedRequest& request);
  // The error the real API would answer, or nothing.
  std::optional<ScriptedReply> check_rules(const RecordedRequest& request) const;

  std::string api_key_;
  std::mutex mutex_;
  std::vector<ScriptedReply> script_;
  size_t next_ = 0;
  LoopbackServer server_;  // last: its thread starts once the members above exist
};

}  // namespace dsv4::test
