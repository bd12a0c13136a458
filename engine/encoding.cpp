#include "engine/encoding.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "engine/python_json.hpp"

namespace dsv4::engine {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kUser = "<｜User｜>";
constexpr std::string_view kAssistant = "<｜Assistant｜>";
constexpr std::string_view kLatestReminder = "<｜latest_reminder｜>";
constexpr std::string_view kImage = "<｜deepseek_image｜>";

constexpr std::string_view kEffortHigh =
    "Reasoning Effort: Absolute maximum with no shortcuts permitted.\n"
    "You MUST be very thorough in your thinking and comprehensively decompose the problem to "
    "resolve the root cause, rigorously stress-testing your logic against all potential paths, "
    "edge cases, and adversarial scenarios.\n"
    "Explicitly write out your entire deliberation process, documenting every intermediate step, "
    "considered alternative, and rejected hypothesis to ensure absolutely no assumption is left "
    "unchecked.\n\n";
constexpr std::string_view kEffortMax =
    "Reasoning Effort: Beyond maximum — exhaustive, relentless, and uncompromising.\n"
    "You MUST reason with the utmost depth and rigor, leaving absolutely nothing to chance: "
    "exhaustively decompose the problem into its most fundamental components, trace every causal "
    "chain to its root, and resolve the underlying cause rather than any surface symptom.\n"
    "Do not stop reasoning until you have independently verified the solution from multiple "
    "angles and are certain that no assumption remains unchecked and no error remains "
    "undiscovered.\n\n";

constexpr std::string_view kToolsHead =
    "## Tools\n\n"
    "You have access to a set of tools to help answer the user's question. You can invoke tools "
    "by writing a \"<｜DSML｜tool_calls>\" block like the following:\n\n"
    "<｜DSML｜tool_calls>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME\">\n"
    "<｜DSML｜parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</｜DSML｜parameter>\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME2\">\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "</｜DSML｜tool_calls>\n\n"
    "String parameters should be specified as is and set `string=\"true\"`. For all other types "
    "(numbers, booleans, arrays, objects), pass the value in JSON format and set "
    "`string=\"false\"`.\n\n"
    "If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning "
    "inside <think>...</think> BEFORE any tool calls or final response.\n\n"
    "Otherwise, output directly after </think> with tool calls or final response.\n\n"
    "### Available Tool Schemas\n\n";
constexpr std::string_view kToolsTail =
    "\n\nYou MUST strictly follow the above defined tool name and parameter schemas to invoke "
    "tool calls.\n";
constexpr std::string_view kResponseFormatHead =
    "## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n";

struct TaskToken {
  std::string_view name, token;
};
constexpr TaskToken kTasks[] = {{"action", "<｜action｜>"},       {"query", "<｜query｜>"},
                                {"authority", "<｜authority｜>"}, {"domain", "<｜domain｜>"},
                                {"title", "<｜title｜>"},         {"read_url", "<｜read_url｜>"}};

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument(what); }

// A message after preprocessing. User turns carry their rendered blocks; everything
// else renders from `msg`.
struct Turn {
  Message msg;
  std::vector<std::string> blocks;     // user: rendered text / image / tool-result blocks
  std::vector<std::string> block_ids;  // user: tool_call_id per block, "" for text blocks
  std::vector<bool> is_tool_result;
  bool from_context = false;
};

std::string flatten_user_parts(const std::vector<ContentPart>& parts) {
  std::string text;
  for (const auto& p : parts) {
    if (p.type == "text") {
      text += p.text;
    } else if (p.type == "image" || p.type == "image_url") {
      text += kImage;
    } else {
      fail("unsupported user content part type '" + p.type + "'; use text, image or image_url");
    }
  }
  return text;
}

std::string tool_result_block(const Message& m) {
  std::string content;
  if (m.parts) {
    bool first = true;
    for (const auto& p : *m.parts) {
      if (!first) content += "\n\n";
      first = false;
      content += p.type == "text" ? p.text : "[Unsupported " + p.type + "]";
    }
  } else {
    content = m.content.value_or("");
  }
  return "<tool_result>" + content + "</tool_result>";
}

// Some clients replay one assistant turn as several messages; V4 renders a turn as one unit.
Message merge_assistant_run(std::vector<const Message*> run) {
  Message merged = *run.front();
  std::vector<std::string> contents, reasonings;
  merged.tool_calls.clear();
  for (const Message* m : run) {
    if (m->content && !m->content->empty()) contents.push_back(*m->content);
    if (!m->reasoning.empty()) reasonings.push_back(m->reasoning);
    merged.tool_calls.insert(merged.tool_calls.end(), m->tool_calls.begin(), m->tool_calls.end());
  }
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "\n\n" : "") + parts[i];
    return out;
  };
  merged.content = contents.empty() ? std::nullopt : std::optional(join(contents));
  merged.reasoning = join(reasonings);
  merged.task = run.back()->task;
  merged.wo_eos = run.back()->wo_eos;
  return merged;
}

// Merges assistant runs, then folds tool results and user messages into user turns.
std::vector<Turn> preprocess(const std::vector<Message>& messages, bool from_context) {
  std::vector<Message> merged;
  for (size_t i = 0; i < messages.size();) {
    if (messages[i].role != Role::assistant) {
      merged.push_back(messages[i++]);
      continue;
    }
    std::vector<const Message*> run;
    while (i < messages.size() && messages[i].role == Role::assistant) run.push_back(&messages[i++]);
    merged.push_back(run.size() == 1 ? *run.front() : merge_assistant_run(run));
  }
  std::vector<Turn> turns;
  for (Message& m : merged) {
    bool after_user_turn = !turns.empty() && turns.back().msg.role == Role::user;
    if (m.role == Role::tool) {
      if (!after_user_turn) turns.push_back(Turn{Message{}, {}, {}, {}, from_context});
      Turn& t = turns.back();
      t.blocks.push_back(tool_result_block(m));
      t.block_ids.push_back(m.tool_call_id);
      t.is_tool_result.push_back(true);
    } else if (m.role == Role::user) {
      std::string text = m.parts ? flatten_user_parts(*m.parts) : m.content.value_or("");
      if (!after_user_turn || turns.back().msg.task) {
        Message user;
        user.task = m.task;
        user.wo_eos = m.wo_eos;
        turns.push_back(Turn{std::move(user), {}, {}, {}, from_context});
      }
      Turn& t = turns.back();
      t.blocks.push_back(std::move(text));
      t.block_ids.emplace_back();
      t.is_tool_result.push_back(false);
    } else {
      turns.push_back(Turn{std::move(m), {}, {}, {}, from_context});
    }
  }
  return turns;
}

using CallOrder = std::map<std::string, size_t>;

void note_call_order(const Message& m, CallOrder& order) {
  if (m.role != Role::assistant || m.tool_calls.empty()) return;
  order.clear();
  for (size_t i = 0; i < m.tool_calls.size(); ++i)
    if (!m.tool_calls[i].id.empty()) order[m.tool_calls[i].id] = i;
}

// Tool results may arrive in any order; the model saw the calls in call order.
void sort_tool_results(std::vector<Turn>& turns, CallOrder order) {
  for (Turn& t : turns) {
    note_call_order(t.msg, order);
    if (t.msg.role != Role::user || order.empty()) continue;
    std::vector<size_t> slots;
    for (size_t i = 0; i < t.blocks.size(); ++i)
      if (t.is_tool_result[i]) slots.push_back(i);
    if (slots.size() < 2) continue;
    auto key = [&](size_t slot) {
      auto it = order.find(t.block_ids[slot]);
      return it == order.end() ? size_t{0} : it->second;
    };
    std::vector<size_t> sorted = slots;
    std::stable_sort(sorted.begin(), sorted.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
    std::vector<std::string> blocks = t.blocks;
    for (size_t i = 0; i < slots.size(); ++i) t.blocks[slots[i]] = blocks[sorted[i]];
  }
}

bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
}

std::string tools_section(const std::vector<std::string>& tools) {
  std::string out(kToolsHead);
  for (size_t i = 0; i < tools.size(); ++i) {
    if (i) out += '\n';
    out += python_json(Json::parse(tools[i]));
  }
  out += kToolsTail;
  return out;
}

// Tools and response format, shared by system and developer messages.
std::string instructions_sections(const Message& m) {
  std::string out;
  if (!m.tools.empty()) out += "\n\n" + tools_section(m.tools);
  if (!m.response_format.empty()) {
    Json rf = Json::parse(m.response_format);
    if (truthy(rf)) out += "\n\n" + std::string(kResponseFormatHead) + python_json(rf);
  }
  return out;
}

std::string dsml_parameters(const ToolCall& call) {
  Json args;
  if (!call.arguments.empty()) {
    args = Json::parse(call.arguments, nullptr, false);
    if (args.is_discarded())
      fail("tool call '" + call.name + "': arguments are not valid JSON: " + call.arguments);
  }
  if (args.is_null()) return "";
  if (!args.is_object())
    fail("tool call '" + call.name + "': arguments must be a JSON object, got " + args.type_name());
  std::string out;
  bool first = true;
  for (const auto& [key, value] : args.items()) {
    if (!first) out += '\n';
    first = false;
    bool is_string = value.is_string();
    out += "<｜DSML｜parameter name=\"" + key + "\" string=\"" + (is_string ? "true" : "false") + "\">";
    out += is_string ? value.get_ref<const std::string&>() : python_json(value);
    out += "</｜DSML｜parameter>";
  }
  return out;
}

std::string tool_calls_block(const std::vector<ToolCall>& calls) {
  if (calls.empty()) return "";
  std::string out = "\n\n<｜DSML｜tool_calls>\n";
  for (size_t i = 0; i < calls.size(); ++i) {
    if (i) out += '\n';
    out += "<｜DSML｜invoke name=\"" + calls[i].name + "\">\n" + dsml_parameters(calls[i]) +
           "\n</｜DSML｜invoke>";
  }
  return out + "\n</｜DSML｜tool_calls>";
}

std::string_view task_token(const std::string& task) {
  for (const auto& t : kTasks)
    if (t.name == task) return t.token;
  fail("invalid task '" + task + "'; valid tasks are action, query, authority, domain, title, read_url");
}

struct Renderer {
  const std::vector<Turn>& turns;
  const EncodeOptions& options;
  bool drop;  // effective dropping
  long last_user;

  bool thinking() const { return options.mode == ThinkingMode::thinking; }

  std::string render(size_t index) const {
    const Message& m = turns[index].msg;
    std::string out;
    if (index == 0 && thinking()) {
      if (options.effort == ReasoningEffort::high) out += kEffortHigh;
      if (options.effort == ReasoningEffort::max) out += kEffortMax;
    }
    switch (m.role) {
      case Role::system:
        out += m.content.value_or("") + instructions_sections(m);
        break;
      case Role::developer:
        if (!m.content || m.content->empty())
          fail("developer message " + std::to_string(index) + " has empty content; give it text");
        out += std::string(kUser) + *m.content + instructions_sections(m);
        break;
      case Role::user: {
        out += kUser;
        const auto& blocks = turns[index].blocks;
        for (size_t i = 0; i < blocks.size(); ++i) out += (i ? "\n\n" : "") + blocks[i];
        break;
      }
      case Role::latest_reminder:
        out += std::string(kLatestReminder) + m.content.value_or("");
        break;
      case Role::assistant: {
        bool prev_has_task = index > 0 && turns[index - 1].msg.task.has_value();
        if (thinking() && !prev_has_task && (!drop || static_cast<long>(index) > last_user))
          out += m.reasoning + std::string(kThinkEnd);
        out += m.content.value_or("") + tool_calls_block(m.tool_calls);
        if (!m.wo_eos) out += kEos;
        break;
      }
      case Role::tool:
        break;  // folded into user turns by preprocess()
    }
    out += turn_opening(index);
    return out;
  }

  // What follows a message when the next one is the assistant's (or there is none).
  std::string turn_opening(size_t index) const {
    const Message& m = turns[index].msg;
    bool last = index + 1 == turns.size();
    Role next = last ? Role::assistant : turns[index + 1].msg.role;
    if (!last && next != Role::assistant && next != Role::latest_reminder) return "";
    if (m.task) {
      std::string_view token = task_token(*m.task);
      if (*m.task != "action") return std::string(token);
      return std::string(kAssistant) + std::string(thinking() ? kThinkStart : kThinkEnd) + std::string(token);
    }
    bool opens = m.role == Role::user || m.role == Role::developer ||
                 (m.role == Role::system && (last || next == Role::assistant));
    if (!opens) return "";
    bool think = thinking() && (!drop || static_cast<long>(index) >= last_user);
    return std::string(kAssistant) + std::string(think ? kThinkStart : kThinkEnd);
  }
};

long last_user_index(const std::vector<Turn>& turns) {
  for (size_t i = turns.size(); i-- > 0;)
    if (turns[i].msg.role == Role::user || turns[i].msg.role == Role::developer) return static_cast<long>(i);
  return -1;
}

// Before the last user turn: assistants lose their reasoning, developer turns go.
std::vector<Turn> drop_old_thinking(std::vector<Turn> turns) {
  long last_user = last_user_index(turns);
  std::vector<Turn> kept;
  for (size_t i = 0; i < turns.size(); ++i) {
    Role role = turns[i].msg.role;
    if (static_cast<long>(i) >= last_user || role == Role::user || role == Role::system ||
        role == Role::latest_reminder) {
      kept.push_back(std::move(turns[i]));
    } else if (role == Role::assistant) {
      turns[i].msg.reasoning.clear();
      kept.push_back(std::move(turns[i]));
    }
  }
  return kept;
}

}  // namespace

std::string encode_messages(const std::vector<Message>& messages, const EncodeOptions& options,
                            const std::vector<Message>& context) {
  std::vector<Turn> turns = preprocess(context, true);
  sort_tool_results(turns, {});
  // New tool results are ordered by the calls of the context as it was given.
  CallOrder order;
  for (const Message& m : context) note_call_order(m, order);
  std::vector<Turn> fresh = preprocess(messages, false);
  sort_tool_results(fresh, order);
  for (Turn& t : fresh) turns.push_back(std::move(t));

  std::string prompt = options.add_bos && context.empty() ? std::string(kBos) : std::string();
  bool any_tools = std::any_of(turns.begin(), turns.end(), [](const Turn& t) { return !t.msg.tools.empty(); });
  bool drop = options.drop_thinking && !any_tools;
  // Dropping runs over context and new messages together; unlike the reference, context
  // turns are recognised by their flag rather than counted, so no new message is lost.
  if (options.mode == ThinkingMode::thinking && drop) turns = drop_old_thinking(std::move(turns));
  Renderer renderer{turns, options, drop, last_user_index(turns)};
  for (size_t i = 0; i < turns.size(); ++i)
    if (!turns[i].from_context) prompt += renderer.render(i);
  return prompt;
}

std::string encode_request_json(std::string_view request_json) {
  Json req = Json::parse(request_json, nullptr, false);
  if (req.is_discarded() || !req.is_object()) fail("the encode request must be a JSON object");
  auto list_text = [&](const char* key) {
    auto it = req.find(key);
    return it == req.end() || it->is_null() ? std::string("[]") : it->dump();
  };
  auto flag = [&](const char* key, bool fallback) {
    auto it = req.find(key);
    if (it == req.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(std::string(key) + " must be true or false");
    return it->get<bool>();
  };
  auto name = [&](const char* key) -> std::optional<std::string> {
    auto it = req.find(key);
    if (it == req.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) fail(std::string(key) + " must be a string");
    return it->get<std::string>();
  };
  std::vector<Message> messages = messages_from_json(list_text("messages"));
  std::vector<Message> context = messages_from_json(list_text("context"));
  EncodeOptions options;
  options.drop_thinking = flag("drop_thinking", true);
  options.add_bos = flag("add_default_bos_token", true);
  // The reference checks mode and effort only while rendering a message, so an empty
  // conversation never looks at them.
  if (!messages.empty()) {
    auto mode = name("thinking_mode");
    if (!mode) fail("thinking_mode is missing; use chat or thinking");
    options.mode = thinking_mode_from_name(*mode);
    auto effort = name("reasoning_effort");
    options.effort = effort && !effort->empty() ? reasoning_effort_from_name(*effort) : ReasoningEffort::low;
  }
  return encode_messages(messages, options, context);
}

}  // namespace dsv4::engine
