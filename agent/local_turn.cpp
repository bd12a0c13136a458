#include "agent/local_turn.hpp"

#include "engine/dsml_arguments.hpp"

namespace dsv4::agent {

LocalTurn::LocalTurn(const engine::Tokenizer& tokenizer, bool thinking, const EventSink& sink)
    : sink_(sink), thinking_(thinking), stream_(tokenizer, thinking, [this](const engine::DsmlEvent& e) { on_event(e); }) {}

void LocalTurn::push(engine::TokenId id) { stream_.push(id); }

void LocalTurn::emit(StreamEvent event) const {
  if (sink_) sink_(event);
}

void LocalTurn::on_event(const engine::DsmlEvent& e) {
  using Kind = engine::DsmlEventKind;
  switch (e.kind) {
    case Kind::reasoning:
      reasoning_ += e.text;
      emit(text_event(StreamEventKind::reasoning_delta, std::string(e.text)));
      break;
    case Kind::content:
      content_ += e.text;
      emit(text_event(StreamEventKind::content_delta, std::string(e.text)));
      break;
    case Kind::call_begin:
      call_ = engine::ParsedToolCall{std::string(e.text), {}, {}};
      call_index_ = calls_seen_++;
      emit({StreamEventKind::tool_call_start, "", call_index_, "call_" + std::to_string(call_index_), call_.name, {}});
      break;
    case Kind::parameter:
      call_.parameters.push_back({std::string(e.name), std::string(e.text), e.is_string});
      break;
    case Kind::call_end: {
      const std::string id = "call_" + std::to_string(call_index_);
      if (e.error.empty()) {
        // Arguments as a JSON object; a string="false" value that is no JSON even after repair
        // goes as written, so the loop answers the model with the precise JSON error.
        engine::DecodedArguments args = engine::decode_arguments(call_);
        std::string arguments = args.error.empty() ? args.json : engine::reference_arguments(call_);
        emit({StreamEventKind::tool_call_delta, arguments, call_index_, {}, {}, {}});
        calls_.push_back({id, call_.name, std::move(arguments)});
      }
      emit({StreamEventKind::tool_call_end, "", call_index_, id, call_.name, {}});
      if (!e.error.empty())
        emit(text_event(StreamEventKind::notice,
                        "the model's tool call " + call_.name + " (" + id + ") is not run: " + std::string(e.error)));
      call_index_ = -1;
      break;
    }
  }
}

Message LocalTurn::finish() {
  stream_.finish();
  Message m;
  m.role = Role::assistant;
  m.content = content_;
  if (thinking_) m.reasoning_content = reasoning_;
  m.tool_calls = calls_;
  return m;
}

std::string LocalTurn::finish_reason() const {
  if (!calls_.empty()) return "tool_calls";
  return stream_.parser().saw_eos() ? "stop" : "length";
}

}  // namespace dsv4::agent
