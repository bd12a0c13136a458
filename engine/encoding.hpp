#pragma once
// Renders a conversation into a DeepSeek-V4 prompt, following the official
// encoding_dsv4.py in vLLM's variant (consecutive assistant messages merged, OpenAI-style
// tool results folded into user turns, trailing system messages open a turn).
//
// One deliberate difference: when `context` ends with a developer message in thinking mode
// with dropping on, the reference miscounts and loses the first new message; this encoder
// renders it.
#include <string>
#include <string_view>
#include <vector>

#include "engine/chat.hpp"

namespace dsv4::engine {

// Special tokens of the format, as text.
inline constexpr std::string_view kBos = "<｜begin▁of▁sentence｜>";
inline constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
inline constexpr std::string_view kThinkStart = "<think>";
inline constexpr std::string_view kThinkEnd = "</think>";
inline constexpr std::string_view kDsml = "｜DSML｜";

// `context` holds messages already rendered earlier (a cached prefix): they steer the
// rendering of `messages` but produce no text, and suppress the BOS.
// Throws std::invalid_argument for content the format cannot express (empty developer
// message, unknown task, tool-call arguments that are not a JSON object, ...).
std::string encode_messages(const std::vector<Message>& messages, const EncodeOptions& options,
                            const std::vector<Message>& context = {});

// The same from a JSON request {messages, thinking_mode, context, drop_thinking,
// add_default_bos_token, reasoning_effort} (the golden encode cases' `input`).
std::string encode_request_json(std::string_view request_json);

}  // namespace dsv4::engine
