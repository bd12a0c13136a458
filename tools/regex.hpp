#pragma once
// The pattern of search_text: PCRE2 with JIT (measured against RE2 on /usr/include,
// see regex.cpp), matched line by line like ripgrep, with a required-literal prefilter.
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dsv4::tools {

// The pattern does not compile; the message names the position and the problem.
class RegexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Regex {
 public:
  // UTF-8 pattern; \w, \b, \d, \s and case folding are Unicode-aware like ripgrep's.
  Regex(std::string_view pattern, bool ignore_case);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  struct Span {
    size_t begin, end;
  };
  // The first match inside one line (without its '\n'). `ascii_text` says the text
  // holds no byte >= 0x80, which allows faster ASCII-only classes.
  std::optional<Span> find_in_line(std::string_view line, bool ascii_text) const;
  // The offset (>= from) of the first place in `text` whose line may match, or npos.
  size_t next_candidate(std::string_view text, size_t from, bool ascii_text) const;
  // Whether the answer of find_in_line depends on `ascii_text` at all.
  bool unicode_classes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsv4::tools
