#pragma once
// A chat completion as it is generated: token ids decoded to text and fed to the streaming DSML
// parser, which also tells the sampler when the next token must be greedy (inside tool-call
// markup only the argmax keeps the structure parseable). Shared by `dsv4 generate --chat` and
// the agent's local model client, so both sample the same tokens.
#include <string>
#include <string_view>

#include "engine/chat.hpp"
#include "engine/dsml_parser.hpp"
#include "engine/tokenizer.hpp"

namespace dsv4::engine {

// How a thinking level renders: "off" in chat mode; "high" / "max" in thinking mode with that
// reasoning-effort paragraph. Throws std::invalid_argument for anything else.
EncodeOptions chat_encode_options(std::string_view thinking);

class ChatStream {
 public:
  // `tokenizer` must outlive the stream. `thinking`: the prompt opened a <think> block, so the
  // text starts with reasoning. `handler` receives the parser's events.
  ChatStream(const Tokenizer& tokenizer, bool thinking, DsmlParser::Handler handler);
  // Decodes `id` (special tokens as text, so the parser sees the EOS) and feeds the parser;
  // returns the text it completed, possibly empty.
  std::string push(TokenId id);
  // The generation ended: flushes held-back bytes and the parser; returns the flushed text.
  std::string finish();
  // True while the next token lands in DSML tool-call markup.
  bool force_greedy() const { return parser_.region() == DsmlRegion::markup; }
  const DsmlParser& parser() const { return parser_; }

 private:
  StreamDecoder decoder_;
  DsmlParser parser_;
};

}  // namespace dsv4::engine
