#pragma once
// The ReAct loop: model turn, then its tool calls (approved, repaired, validated; runs of
// read-only calls concurrently, results in call order), then the next turn, until a
// final answer, a budget or an interrupt.
#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent/messages.hpp"
#include "agent/model_client.hpp"
#include "agent/pricing.hpp"

namespace dsv4::sandbox {
class Workspace;
}

namespace dsv4::agent {

class SessionWriter;
class TokenCounter;

// Approval is separate from the sandbox: it decides which calls run at all.
enum class Approval { read_only, ask, auto_edit, full_auto };
std::string_view approval_name(Approval approval);
// "read-only", "ask", "auto-edit", "full-auto"; throws std::invalid_argument otherwise.
Approval parse_approval(std::string_view name);

enum class RunStatus { done, error, budget, interrupted };
std::string_view status_name(RunStatus status);

struct LoopOptions {
  Thinking thinking = Thinking::high;
  Approval approval = Approval::auto_edit;
  int max_steps = 50;         // model turns
  long max_total_tokens = 0;  // input + output over all requests; 0: no limit
  double max_cost_usd = 0;    // at `prices`; 0: no limit
  Prices prices;
  std::chrono::seconds max_wall{0};  // 0: no limit
  int max_tokens = 32768;            // per request
  int repeat_limit = 3;              // the same call this many times in a row is refused
  // The model's context window in tokens; 0: never compact. Compaction needs `counter`.
  long context_tokens = 0;
  double compact_at = 0.8;  // compact when the next prompt would pass this share of the window
  const TokenCounter* counter = nullptr;
  const std::atomic<bool>* interrupt = nullptr;
  // Asked in `ask` mode before a call that changes something; none (headless): refused.
  std::function<bool(const ToolCall&)> ask;
};

struct LoopResult {
  RunStatus status = RunStatus::error;
  std::string answer;
  std::string error;
  int steps = 0;
  int tool_calls = 0;
  Usage usage;
  int requests = 0;
};

// Structured events: deltas, notices, messages, usage, tool results, the end.
using LoopEvents = std::function<void(const nlohmann::json&)>;

// The system prompt (prompts/system.md) and every tool as an OpenAI tool object, sorted
// by name with sorted keys: byte-identical from run to run so the server caches them.
const std::string& system_prompt();
const std::string& tools_json();

class AgentLoop {
 public:
  // `session` (may be null) receives messages, usage and tool timings as they happen.
  AgentLoop(ModelClient& model, const sandbox::Workspace& workspace, LoopOptions options,
            SessionWriter* session, LoopEvents events);
  // Continues `history` (system prompt and task included) until it ends.
  LoopResult run(std::vector<Message>& history);

 private:
  // The tool messages answering `assistant`'s calls, in call order.
  std::vector<Message> run_calls(const Message& assistant,
                                 const std::vector<std::string>& leak_errors);
  // The next prompt's size: the server's count of the last prompt and reply, plus the
  // messages appended since, counted locally (`count`: TokenCounter::count or upper_bound).
  long prompt_estimate(const std::vector<Message>& history,
                       const std::function<long(const Message&)>& count) const;
  bool needs_compaction(const std::vector<Message>& history) const;
  // Replaces the older turns of `history` with the model's summary; false (with a notice)
  // when there is nothing to summarise or the summary request failed.
  bool compact(std::vector<Message>& history, LoopResult& result);
  std::string approval_refusal(const ToolCall& call, bool read_only, bool open_world) const;
  void emit(const nlohmann::json& event, bool persist);
  bool interrupted() const { return options_.interrupt && options_.interrupt->load(); }

  ModelClient& model_;
  const sandbox::Workspace& workspace_;
  LoopOptions options_;
  SessionWriter* session_;
  LoopEvents events_;
  std::string last_call_;
  int repeats_ = 0;
  long known_tokens_ = 0;    // prompt + reply tokens of the last request, as the server counted
  size_t known_messages_ = 0;  // how many history messages known_tokens_ covers
};

}  // namespace dsv4::agent
