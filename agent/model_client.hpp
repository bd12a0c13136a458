#pragma once
// What the loop asks of a model backend: one call that turns a conversation into the next
// assistant message, streaming what it learns as events. The OpenAI-compatible client
// implements it over HTTP; the local engine will implement it in-process.
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/messages.hpp"

namespace dsv4::agent {

enum class Thinking { off, high, max };
std::string_view thinking_name(Thinking thinking);
// "off" / "high" / "max"; throws std::invalid_argument otherwise.
Thinking parse_thinking(std::string_view name);

struct Usage {
  long input = 0;       // prompt tokens
  long cache_hit = 0;   // prompt tokens served from the server's prefix cache
  long cache_miss = 0;  // prompt tokens computed afresh
  long output = 0;      // completion tokens (reasoning included)
  Usage& operator+=(const Usage& other);
};

enum class StreamEventKind {
  reasoning_delta,  // text
  content_delta,    // text
  tool_call_start,  // index, id, name
  tool_call_delta,  // index, text: a piece of the arguments
  tool_call_end,    // index
  usage,            // usage
  finish,           // text: the finish reason
  notice,           // text: a retry, a fallback, a deprecation (for the user, not the model)
  error,            // text: why the request failed (a ModelError with the same text follows)
};

struct StreamEvent {
  StreamEventKind kind;
  std::string text;
  int index = 0;
  std::string id;
  std::string name;
  Usage usage;
};

inline StreamEvent text_event(StreamEventKind kind, std::string text) {
  StreamEvent e{kind, std::move(text), 0, {}, {}, {}};
  return e;
}

using EventSink = std::function<void(const StreamEvent&)>;

struct ChatRequest {
  std::vector<Message> messages;
  std::string tools_json;  // a JSON array of OpenAI tool objects; "" or "[]" for none
  Thinking thinking = Thinking::high;
  int max_tokens = 32768;
};

struct ChatResponse {
  Message message;  // role assistant
  Usage usage;
  std::string finish_reason;  // "stop", "tool_calls", "length", ...
  std::string model;          // the model that answered (the fallback after a switch)
};

// A failure that ends the request. `retryable` failures were retried as configured already.
class ModelError : public std::runtime_error {
 public:
  enum class Kind { auth, balance, bad_request, invalid_parameter, unavailable, protocol };
  ModelError(Kind kind, int status, const std::string& message)
      : std::runtime_error(message), kind_(kind), status_(status) {}
  Kind kind() const { return kind_; }
  int status() const { return status_; }  // HTTP status, 0 when none

 private:
  Kind kind_;
  int status_;
};

class ModelClient {
 public:
  virtual ~ModelClient() = default;
  // The next assistant message. Events arrive on `sink` as they happen (after a retry the
  // stream starts over; a notice says so). Throws ModelError.
  virtual ChatResponse complete(const ChatRequest& request, const EventSink& sink) = 0;
};

}  // namespace dsv4::agent
