#include "agent/loop.hpp"

#include <chrono>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <stop_token>

#include "agent/compaction.hpp"
#include "agent/session.hpp"
#include "agent/token_count.hpp"
#include "agent/tool_repair.hpp"
#include "prompts/prompts.hpp"
#include "sandbox/workspace.hpp"
#include "tools/registry.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

namespace {

// The verbatim tail after a compaction holds at most this share of the window.
constexpr double kRecentShare = 0.1;

// How servers (DeepSeek, vLLM, SGLang) word a prompt that is longer than the window.
bool is_context_overflow(const ModelError& e) {
  std::string_view what = e.what();
  return e.kind() == ModelError::Kind::bad_request &&
         (what.find("maximum context length") != std::string_view::npos ||
          what.find("context_length_exceeded") != std::string_view::npos);
}

}  // namespace

std::string_view approval_name(Approval approval) {
  switch (approval) {
    case Approval::read_only:
      return "read-only";
    case Approval::ask:
      return "ask";
    case Approval::auto_edit:
      return "auto-edit";
    case Approval::full_auto:
      return "full-auto";
  }
  return "?";
}

Approval parse_approval(std::string_view name) {
  if (name == "read-only") return Approval::read_only;
  if (name == "ask") return Approval::ask;
  if (name == "auto-edit") return Approval::auto_edit;
  if (name == "full-auto") return Approval::full_auto;
  throw std::invalid_argument(
      "approval mode must be read-only, ask, auto-edit or full-auto, not '" + std::string(name) +
      "'");
}

std::string_view status_name(RunStatus status) {
  switch (status) {
    case RunStatus::done:
      return "done";
    case RunStatus::error:
      return "error";
    case RunStatus::budget:
      return "budget_exhausted";
    case RunStatus::interrupted:
      return "interrupted";
  }
  return "?";
}

const std::string& system_prompt() {
  static const std::string text(prompts::get("system.md"));
  return text;
}

const std::string& tools_json() {
  static const std::string text = [] {
    std::map<std::string, Json> sorted;
    for (const tools::Tool& t : tools::all_tools())
      sorted[std::string(t.name)] = {{"type", "function"},
                                     {"function",
                                      {{"name", t.name},
                                       {"description", tools::tool_description(t)},
                                       {"parameters", Json::parse(t.schema)}}}};
    Json array = Json::array();
    for (auto& [name, tool] : sorted) array.push_back(std::move(tool));
    return array.dump();
  }();
  return text;
}

AgentLoop::AgentLoop(ModelClient& model, const sandbox::Workspace& workspace, LoopOptions options,
                     SessionWriter* session, LoopEvents events)
    : model_(model),
      workspace_(workspace),
      options_(std::move(options)),
      session_(session),
      events_(std::move(events)) {}

void AgentLoop::emit(const Json& event, bool persist) {
  if (persist && session_) session_->append(event);
  if (events_) events_(event);
}

LoopResult AgentLoop::run(std::vector<Message>& history) {
  LoopResult result;
  EventSink sink = [this](const StreamEvent& e) {
    switch (e.kind) {
      case StreamEventKind::reasoning_delta:
        emit({{"type", "reasoning_delta"}, {"text", e.text}}, false);
        break;
      case StreamEventKind::content_delta:
        emit({{"type", "content_delta"}, {"text", e.text}}, false);
        break;
      case StreamEventKind::notice:
        emit({{"type", "notice"}, {"text", e.text}}, true);
        break;
      case StreamEventKind::error:
        emit({{"type", "error"}, {"text", e.text}}, true);
        break;
      default:
        break;
    }
  };
  const auto run_started = std::chrono::steady_clock::now();
  auto spent = [&](std::string why) {
    result.status = RunStatus::budget;
    result.error = std::move(why);
    return result;
  };
  while (true) {
    if (interrupted()) {
      result.status = RunStatus::interrupted;
      return result;
    }
    if (options_.max_wall.count() > 0 &&
        std::chrono::steady_clock::now() - run_started >= options_.max_wall)
      return spent("the time budget (" + std::to_string(options_.max_wall.count()) +
                   " s) is spent");
    if (result.steps >= options_.max_steps)
      return spent("the step budget (" + std::to_string(options_.max_steps) +
                   " model turns) is spent");
    bool compacted_now = false;
    if (needs_compaction(history)) compacted_now = compact(history, result);
    ++result.steps;
    ChatRequest request{history, tools_json(), options_.thinking, options_.max_tokens};
    ChatResponse response;
    auto started = std::chrono::steady_clock::now();
    try {
      response = model_.complete(request, sink);
    } catch (const ModelError& e) {
      // A window smaller than we were told: compact once and take the step again.
      if (is_context_overflow(e) && !compacted_now && options_.counter && compact(history, result)) {
        --result.steps;
        continue;
      }
      result.status = interrupted() ? RunStatus::interrupted : RunStatus::error;
      result.error = e.what();
      return result;
    }
    ++result.requests;
    result.usage += response.usage;
    const Usage& u = response.usage;
    emit({{"type", "usage"},
          {"step", result.steps},
          {"model", response.model},
          {"input", u.input},
          {"cache_hit", u.cache_hit},
          {"cache_miss", u.cache_miss},
          {"output", u.output},
          {"cache_hit_ratio", u.input > 0 ? static_cast<double>(u.cache_hit) / u.input : 0.0},
          {"finish_reason", response.finish_reason},
          {"seconds",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}},
         true);

    Message assistant = std::move(response.message);
    std::vector<std::string> leak_errors(assistant.tool_calls.size());
    for (LeakedCall& leaked : recover_leaked_calls(assistant)) {
      emit({{"type", "notice"},
            {"text", "recovered a tool call (" + leaked.call.name +
                         ") written as DSML text in the content"}},
           true);
      assistant.tool_calls.push_back(std::move(leaked.call));
      leak_errors.push_back(std::move(leaked.error));
    }
    history.push_back(assistant);
    known_tokens_ = u.input + u.output;
    known_messages_ = history.size();
    emit({{"type", "message"}, {"message", message_to_json(assistant)}}, true);

    if (assistant.tool_calls.empty()) {
      result.answer = assistant.content;
      result.status = RunStatus::done;
      return result;
    }
    for (Message& m : run_calls(assistant, leak_errors)) {
      history.push_back(m);
      emit({{"type", "message"}, {"message", message_to_json(m)}}, true);
    }
    result.tool_calls += static_cast<int>(assistant.tool_calls.size());
    if (options_.max_total_tokens > 0 &&
        result.usage.input + result.usage.output >= options_.max_total_tokens)
      return spent("the token budget (" + std::to_string(options_.max_total_tokens) + ") is spent");
    if (options_.max_cost_usd > 0 &&
        cost_usd(options_.prices, result.usage) >= options_.max_cost_usd)
      return spent("the cost budget ($" + std::to_string(options_.max_cost_usd) + ") is spent");
  }
}

long AgentLoop::prompt_estimate(const std::vector<Message>& history,
                                const std::function<long(const Message&)>& count) const {
  long tokens = known_tokens_;
  size_t from = known_messages_;
  if (from == 0 || from > history.size()) {  // nothing counted by the server yet
    tokens = count(user_message(tools_json()));
    from = 0;
  }
  for (size_t i = from; i < history.size(); ++i) tokens += count(history[i]);
  return tokens;
}

bool AgentLoop::needs_compaction(const std::vector<Message>& history) const {
  if (options_.context_tokens <= 0 || !options_.counter) return false;
  const double limit = options_.compact_at * static_cast<double>(options_.context_tokens);
  if (static_cast<double>(prompt_estimate(history, TokenCounter::upper_bound)) <= limit)
    return false;
  const TokenCounter& counter = *options_.counter;
  return static_cast<double>(prompt_estimate(
             history, [&](const Message& m) { return counter.count(m); })) > limit;
}

bool AgentLoop::compact(std::vector<Message>& history, LoopResult& result) {
  const TokenCounter& counter = *options_.counter;
  auto count = [&](const Message& m) { return counter.count(m); };
  const long before = prompt_estimate(history, count);
  const auto keep = static_cast<long>(kRecentShare * static_cast<double>(options_.context_tokens));
  const size_t kept_from = recent_turns_start(history, counter, keep);
  auto give_up = [&](const std::string& why) {
    emit({{"type", "notice"}, {"text", "context compaction skipped: " + why}}, true);
    return false;
  };
  if (kept_from == 0)
    return give_up("no turns older than the last one to summarise (about " +
                   std::to_string(before) + " tokens)");
  std::vector<Message> ask = history;
  ask.push_back(compaction_request(history.size() - kept_from));
  ChatResponse response;
  try {
    response = model_.complete({ask, tools_json(), options_.thinking, options_.max_tokens},
                               [this](const StreamEvent& e) {
                                 if (e.kind == StreamEventKind::notice)
                                   emit({{"type", "notice"}, {"text", e.text}}, true);
                               });
  } catch (const ModelError& e) {
    return give_up(std::string("the summary request failed: ") + e.what());
  }
  ++result.requests;
  result.usage += response.usage;
  if (response.message.content.empty())
    return give_up("the model answered the summary request without a summary");
  const Message summary = summary_message(response.message.content);
  Json event = compaction_event(kept_from, summary);
  history = compacted(history, kept_from, summary);
  known_messages_ = 0;
  event["tokens_before"] = before;
  event["tokens_after"] = prompt_estimate(history, count);
  event["counted_by"] = counter.source();
  emit(event, true);
  return true;
}

std::string AgentLoop::approval_refusal(const ToolCall& call, bool read_only,
                                        bool open_world) const {
  if (read_only) return {};
  std::string why;
  switch (options_.approval) {
    case Approval::full_auto:
      return {};
    case Approval::auto_edit:
      if (!open_world) return {};
      why = "approval mode 'auto-edit' runs file edits but not commands";
      break;
    case Approval::ask:
      if (options_.ask && options_.ask(call)) return {};
      why = options_.ask ? "the user declined this call"
                         : "approval mode 'ask' has nobody to ask in a headless run";
      break;
    case Approval::read_only:
      why = "approval mode 'read-only' runs only tools that change nothing";
      break;
  }
  return "not run: " + why +
         "; use read-only tools or finish with an answer that says what should be done";
}

std::vector<Message> AgentLoop::run_calls(const Message& assistant,
                                          const std::vector<std::string>& leak_errors) {
  const auto& calls = assistant.tool_calls;
  std::vector<Json> results(calls.size());
  std::vector<PreparedCall> prepared;
  std::vector<bool> runnable(calls.size(), false);
  for (size_t i = 0; i < calls.size(); ++i) {
    PreparedCall p = prepare_call(calls[i]);
    if (!leak_errors[i].empty()) p.error = leak_errors[i];
    std::string signature = calls[i].name + "\n" + p.arguments;
    repeats_ = signature == last_call_ ? repeats_ + 1 : 1;
    last_call_ = signature;
    if (p.error.empty() && repeats_ >= options_.repeat_limit)
      p.error = "not run: this exact call was made " + std::to_string(repeats_) +
                " times in a row; its result will not change. Use the results you have, change the "
                "arguments, or try another approach";
    if (p.error.empty())
      p.error = approval_refusal(calls[i], p.tool->traits.read_only, p.tool->traits.open_world);
    if (!p.error.empty()) results[i] = {{"ok", false}, {"error", p.error}};
    runnable[i] = p.error.empty();
    prepared.push_back(std::move(p));
  }
  // An interrupt stops running tools (a long shell command) through their stop token.
  std::stop_source stop;
  auto run_one = [this, &stop](const PreparedCall& p) {
    auto started = std::chrono::steady_clock::now();
    tools::ToolContext ctx{workspace_, stop.get_token()};
    Json out = tools::call_tool(*p.tool, Json::parse(p.arguments), ctx);
    if (!p.repairs.empty()) out["arguments_repaired"] = p.repairs;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return std::make_pair(std::move(out), seconds);
  };
  // Consecutive read-only calls run together; a call that changes something runs alone.
  for (size_t i = 0; i < calls.size();) {
    if (interrupted()) {
      for (size_t k = i; k < calls.size(); ++k)
        if (runnable[k])
          results[k] = {{"ok", false}, {"error", "not run: the run was interrupted"}};
      break;
    }
    size_t end = i + 1;
    if (runnable[i] && prepared[i].tool->traits.read_only)
      while (end < calls.size() && (!runnable[end] || prepared[end].tool->traits.read_only)) ++end;
    std::vector<std::future<std::pair<Json, double>>> running(end - i);
    for (size_t k = i; k < end; ++k)
      if (runnable[k])
        running[k - i] = std::async(std::launch::async, run_one, std::cref(prepared[k]));
    for (size_t k = i; k < end; ++k) {
      if (!runnable[k]) continue;
      while (running[k - i].wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
        if (interrupted()) stop.request_stop();
      auto [out, seconds] = running[k - i].get();
      emit({{"type", "tool"},
            {"id", calls[k].id},
            {"name", calls[k].name},
            {"ok", out.value("ok", false)},
            {"seconds", seconds}},
           true);
      results[k] = std::move(out);
    }
    i = end;
  }
  std::vector<Message> messages;
  for (size_t i = 0; i < calls.size(); ++i)
    messages.push_back(
        tool_message(calls[i].id, results[i].dump(-1, ' ', false, Json::error_handler_t::replace)));
  return messages;
}

}  // namespace dsv4::agent
