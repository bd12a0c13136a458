#pragma once
// The DeepSeek V3/V4 pre-tokenizer: the three Split regexes of its tokenizer.json, run
// by a hand-written matcher with exactly their semantics (JavaScript's, as in the
// reference), one pass, no regex engine.
#include <cstddef>
#include <string_view>
#include <vector>

namespace dsv4::engine {

// The `Regex` strings of the Split steps this matcher implements, in order; a
// tokenizer.json that declares others is refused.
inline constexpr std::string_view kDeepSeekSplitRegexes[] = {
    "\\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?"
    "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
};

// Cuts `text` (raw bytes, normally UTF-8) into pre-tokens and appends the end offset of
// each to `ends`. Ill-formed UTF-8 subparts count as characters of no class, so every
// byte lands in some piece.
void pretokenize(std::string_view text, std::vector<size_t>& ends);

}  // namespace dsv4::engine
