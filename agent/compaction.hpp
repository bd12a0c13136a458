#pragma once
// Compaction: when the prompt nears the context window, the model summarises the older
// turns; the system prompt (and so the tool schemas) and the recent turns stay byte-identical,
// so the server's prefix cache still serves the system part after the swap.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent/messages.hpp"

namespace dsv4::agent {

class TokenCounter;

// Where the verbatim tail starts: an assistant message, so that no tool result is parted from
// its call, chosen so the tail holds at most `keep_tokens` (but always the last assistant
// turn). 0 when there is nothing older than the tail to summarise.
size_t recent_turns_start(const std::vector<Message>& history, const TokenCounter& counter,
                          long keep_tokens);

// The user message that asks for the summary of history[1, kept_from).
Message compaction_request(size_t kept_messages);

// The model's summary wrapped as the user message that stands for the older turns.
Message summary_message(const std::string& summary);

// history[0] (the system prompt), then `summary`, then history[kept_from...].
std::vector<Message> compacted(const std::vector<Message>& history, size_t kept_from,
                               const Message& summary);

// The session event that records a compaction, and its replay on a loaded history.
nlohmann::json compaction_event(size_t kept_from, const Message& summary_message);
// Throws std::invalid_argument when the event does not fit `history`.
void apply_compaction_event(std::vector<Message>& history, const nlohmann::json& event);

}  // namespace dsv4::agent
