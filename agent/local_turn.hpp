#pragma once
// One assistant turn of the local engine: generated token ids become the assistant message and
// the stream events a remote client would send (reasoning and content deltas, tool calls with
// ids call_0, call_1, ...). DSML markup never reaches the reasoning or the content.
#include <string>
#include <vector>

#include "agent/model_client.hpp"
#include "engine/chat_stream.hpp"

namespace dsv4::agent {

class LocalTurn {
 public:
  // `thinking`: the prompt ended with <think>. `tokenizer` and `sink` must outlive the turn.
  LocalTurn(const engine::Tokenizer& tokenizer, bool thinking, const EventSink& sink);
  LocalTurn(const LocalTurn&) = delete;
  LocalTurn& operator=(const LocalTurn&) = delete;

  void push(engine::TokenId id);
  // The next token lands inside tool-call markup: sample it greedily.
  bool force_greedy() const { return stream_.force_greedy(); }
  // The generation ended; flushes what the parser held back and returns the message. Calls cut
  // off or malformed are left out (a notice says why): running half a call could do harm.
  Message finish();
  // "tool_calls" when the message calls tools, else "stop" after the EOS, else "length".
  std::string finish_reason() const;

 private:
  void on_event(const engine::DsmlEvent& event);
  void emit(StreamEvent event) const;

  const EventSink& sink_;
  bool thinking_;
  engine::ChatStream stream_;
  std::string reasoning_, content_;
  engine::ParsedToolCall call_;  // the call being parsed
  int call_index_ = -1;          // its index, -1 outside a call
  int calls_seen_ = 0;
  std::vector<ToolCall> calls_;
};

}  // namespace dsv4::agent
