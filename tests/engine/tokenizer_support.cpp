#include "tests/engine/tokenizer_support.hpp"

#include <stdexcept>

#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace dsv4::test {

std::filesystem::path golden_tokenizer_dir() {
  return std::filesystem::path(DSV4_SHARED_DIR) / "golden" / "tokenizer" / "deepseek_v3";
}

const engine::Tokenizer& golden_tokenizer() {
  static const engine::Tokenizer tokenizer = engine::Tokenizer::load(golden_tokenizer_dir());
  return tokenizer;
}

// Pieces that stress the pre-tokenizer, BPE and added-token matching.
const std::vector<std::string>& valid_text_pieces() {
  static const std::vector<std::string> pieces = {
    "a", "Z", "hello", " world", "  ", "\t", "\n", "\r\n", "\r", " \n ", "   \n\n  ", "0", "7", "12345",
    "٣٤٥", "½", "²", "Ⅻ", "１２", "中文", "日本語", "ひらがな", "カタカナ", "・", "ー", "゠", "한국어", "𠀀", "龦",
    "😀", "👩‍💻", "🇫🇷", "❤️", "\u200d", "e\u0301", "\u0301", "ﬁ", "Å", "\u00a0", "\u2028", "\u2029",
    "\u0085", "\u3000", "\ufeff", "\u200b", std::string(1, '\0'), "\x01", "\x7f", "\u00ad", "\ue000",
    "\uffff", "\ufffd", ".", ",", "!!", "...", "#include", "_x", "$", "->", "::", "'s", "\"", "`", "{", "}",
    "[]", "<", ">", "|", "<|EOT|>", "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>", "<｜place▁holder▁no▁42｜>", "<｜fim▁hole｜>", "<｜", "｜>", "<｜DSML｜invoke",
    "Ａ", "ｶ", "ا", "עברית", "ไทย", "देवनागरी", "\u0e33", "𝔘𝔫𝔦", "x²", "  \t ", "\n\n\n",
  };
  return pieces;
}

nlohmann::json run_reference(const nlohmann::json& input) {
  TempDir dir;
  dir.write("in.json", input.dump());
  const auto script = std::filesystem::path(DSV4_SOURCE_DIR) / "tests" / "engine" / "tokenizer_reference.mjs";
  const RunResult r = run({"node", script.string(), (dir / "in.json").string(), (dir / "out.json").string()},
                          DSV4_SOURCE_DIR);
  if (r.exit_code != 0) {
    throw std::runtime_error("the npm reference tokenizer failed (run 'npm ci' in the repository root): " +
                             r.out + r.err);
  }
  return nlohmann::json::parse(dir.read("out.json"));
}

}  // namespace dsv4::test
