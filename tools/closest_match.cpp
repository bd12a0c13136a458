#include "tools/closest_match.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "tools/text_lines.hpp"

namespace dsv4::tools {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The line without leading and trailing blanks, inner runs of blanks as one space.
std::string normalized(std::string_view line) {
  std::string out;
  bool gap = false;
  for (char c : line) {
    if (is_blank(c)) {
      gap = !out.empty();
    } else {
      if (gap) out += ' ';
      gap = false;
      out += c;
    }
  }
  return out;
}

std::vector<std::string> normalized_lines(std::string_view text) {
  std::vector<std::string> out;
  for (auto line : split_lines(text)) out.push_back(normalized(line));
  return out;
}

// 1 for equal lines, else the share of the longer line covered by the common prefix and
// suffix: cheap, and high for the usual near-miss (one token changed).
double similarity(const std::string& a, const std::string& b) {
  if (a == b) return 1.0;
  size_t n = std::min(a.size(), b.size());
  size_t prefix = 0;
  while (prefix < n && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < n - prefix && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) ++suffix;
  return static_cast<double>(prefix + suffix) / static_cast<double>(std::max(a.size(), b.size()));
}

// Above this many line comparisons only whitespace-insensitive equality counts, so that
// a miss in a huge file stays fast.
constexpr size_t kMaxSimilarityWork = 4'000'000;

}  // namespace

std::optional<ClosestMatch> closest_match(std::string_view text, std::string_view needle) {
  const auto lines = normalized_lines(text);
  auto wanted = normalized_lines(needle);
  while (!wanted.empty() && wanted.back().empty()) wanted.pop_back();
  while (!wanted.empty() && wanted.front().empty()) wanted.erase(wanted.begin());
  if (wanted.empty() || lines.empty()) return std::nullopt;

  const size_t k = std::min(wanted.size(), lines.size());
  const bool cheap = lines.size() * k > kMaxSimilarityWork;
  std::hash<std::string> hash;
  std::vector<size_t> line_hash, wanted_hash;
  for (const auto& l : lines) line_hash.push_back(hash(l));
  for (const auto& w : wanted) wanted_hash.push_back(hash(w));

  double best = 0;
  size_t best_at = 0;
  for (size_t i = 0; i + k <= lines.size(); ++i) {
    double score = 0;
    for (size_t j = 0; j < k; ++j) {
      if (line_hash[i + j] == wanted_hash[j] && lines[i + j] == wanted[j])
        score += 1;
      else if (!cheap)
        score += similarity(lines[i + j], wanted[j]);
    }
    if (score > best) {
      best = score;
      best_at = i;
    }
  }
  // Less than half alike line by line is no useful suggestion.
  if (best * 2 < static_cast<double>(wanted.size())) return std::nullopt;
  ClosestMatch match{best_at + 1, best_at + k, false};
  match.whitespace_only = k == wanted.size() && best == static_cast<double>(k);
  return match;
}

}  // namespace dsv4::tools
