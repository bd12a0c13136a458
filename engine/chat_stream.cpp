#include "engine/chat_stream.hpp"

#include <stdexcept>

namespace dsv4::engine {

EncodeOptions chat_encode_options(std::string_view thinking) {
  EncodeOptions o;
  if (thinking == "off") {
    o.mode = ThinkingMode::chat;
  } else if (thinking == "high" || thinking == "max") {
    o.mode = ThinkingMode::thinking;
    o.effort = thinking == "max" ? ReasoningEffort::max : ReasoningEffort::high;
  } else {
    throw std::invalid_argument("thinking must be off, high or max, not '" + std::string(thinking) + "'");
  }
  return o;
}

ChatStream::ChatStream(const Tokenizer& tokenizer, bool thinking, DsmlParser::Handler handler)
    : decoder_(tokenizer, /*skip_special=*/false), parser_(DsmlOptions{.thinking = thinking}, std::move(handler)) {}

std::string ChatStream::push(TokenId id) {
  std::string piece = decoder_.push(id);
  parser_.feed(piece);
  return piece;
}

std::string ChatStream::finish() {
  std::string rest = decoder_.finish();
  parser_.feed(rest);
  parser_.finish();
  return rest;
}

}  // namespace dsv4::engine
