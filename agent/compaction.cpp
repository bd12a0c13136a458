#include "agent/compaction.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/token_count.hpp"
#include "prompts/prompts.hpp"

namespace dsv4::agent {
namespace {

std::string fill(std::string_view text, std::string_view slot, const std::string& value) {
  std::string out(text);
  if (size_t at = out.find(slot); at != std::string::npos) out.replace(at, slot.size(), value);
  return out;
}

}  // namespace

size_t recent_turns_start(const std::vector<Message>& history, const TokenCounter& counter,
                          long keep_tokens) {
  size_t start = 0;
  long tail = 0;
  for (size_t i = history.size(); i-- > 1;) {
    tail += counter.count(history[i]);
    if (history[i].role != Role::assistant) continue;
    if (start != 0 && tail > keep_tokens) break;
    start = i;
  }
  // The system prompt alone before the tail leaves nothing to summarise.
  return start > 1 ? start : 0;
}

Message compaction_request(size_t kept_messages) {
  return user_message(
      fill(prompts::get("compact/request.md"), "{{KEPT}}", std::to_string(kept_messages)));
}

Message summary_message(const std::string& summary) {
  return user_message(fill(prompts::get("compact/summary.md"), "{{SUMMARY}}", summary));
}

std::vector<Message> compacted(const std::vector<Message>& history, size_t kept_from,
                               const Message& summary) {
  std::vector<Message> out;
  out.reserve(history.size() - kept_from + 2);
  if (!history.empty() && history[0].role == Role::system) out.push_back(history[0]);
  out.push_back(summary);
  out.insert(out.end(), history.begin() + static_cast<std::ptrdiff_t>(kept_from), history.end());
  return out;
}

nlohmann::json compaction_event(size_t kept_from, const Message& summary) {
  return {{"type", "compaction"}, {"kept_from", kept_from}, {"message", message_to_json(summary)}};
}

void apply_compaction_event(std::vector<Message>& history, const nlohmann::json& event) {
  const auto kept_from = event.value("kept_from", size_t{0});
  if (kept_from < 1 || kept_from > history.size())
    throw std::invalid_argument("compaction event: kept_from " + std::to_string(kept_from) +
                                " does not fit a history of " + std::to_string(history.size()) +
                                " messages");
  history = compacted(history, kept_from, message_from_json(event.at("message")));
}

}  // namespace dsv4::agent
