#include "tools/unified_diff.hpp"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "tools/text_lines.hpp"

namespace dsv4::tools {
namespace {

using Lines = std::vector<std::string_view>;

// Lines a[a_begin, a_end) are replaced by b[b_begin, b_end); one side may be empty.
struct Change {
  size_t a_begin, a_end, b_begin, b_end;
};

// Beyond this many differing lines the shortest edit is not searched for: the differing
// middle becomes one change (still a correct diff, only less minimal).
constexpr size_t kMaxEditDistance = 2000;

// Myers' O(ND) shortest edit script between a and b (line ids), as changes offset by
// (a0, b0). Keeps one diagonal array per edit step to walk back the path.
std::vector<Change> shortest_edit(const std::vector<int>& a, const std::vector<int>& b,
                                  size_t a0, size_t b0) {
  const long n = static_cast<long>(a.size()), m = static_cast<long>(b.size());
  const long max_d = std::min<long>(n + m, kMaxEditDistance);
  const long off = max_d + 1;
  std::vector<long> v(static_cast<size_t>(2 * off + 1), 0);
  std::vector<std::vector<long>> trace;  // v[-d-1 .. d+1] before step d
  long found = -1;
  for (long d = 0; d <= max_d && found < 0; ++d) {
    trace.emplace_back(v.begin() + (off - d - 1), v.begin() + (off + d + 2));
    for (long k = -d; k <= d; k += 2) {
      long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1]
                                                                        : v[off + k - 1] + 1;
      long y = x - k;
      while (x < n && y < m && a[x] == b[y]) ++x, ++y;
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return {Change{a0, a0 + a.size(), b0, b0 + b.size()}};

  // Walk back from (n, m), collecting single-line edits, merged into runs.
  std::vector<Change> changes;
  auto add = [&](size_t ai, size_t bi, bool deletion) {
    // Edits arrive back to front; extend the run at the front when adjacent.
    if (!changes.empty()) {
      Change& c = changes.back();
      if (deletion && c.a_begin == ai + 1 && c.b_begin == bi) {
        c.a_begin = ai;
        return;
      }
      if (!deletion && c.b_begin == bi + 1 && c.a_begin == ai) {
        c.b_begin = bi;
        return;
      }
    }
    changes.push_back(deletion ? Change{ai, ai + 1, bi, bi} : Change{ai, ai, bi, bi + 1});
  };
  long x = n, y = m;
  for (long d = found; d > 0; --d) {
    const auto& t = trace[static_cast<size_t>(d)];
    auto at = [&](long k) { return t[static_cast<size_t>(k + d + 1)]; };
    long k = x - y;
    bool down = (k == -d || (k != d && at(k - 1) < at(k + 1)));
    long pk = down ? k + 1 : k - 1;
    long px = at(pk), py = px - pk;
    // From (px, py) the step inserts b[py] (down) or deletes a[px], then follows a snake.
    add(static_cast<size_t>(px), static_cast<size_t>(py), !down);
    x = px;
    y = py;
  }
  std::reverse(changes.begin(), changes.end());
  for (auto& c : changes) c = {c.a_begin + a0, c.a_end + a0, c.b_begin + b0, c.b_end + b0};
  return changes;
}

std::vector<Change> diff_lines(const Lines& a, const Lines& b) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  std::unordered_map<std::string_view, int> ids;
  auto intern = [&](const Lines& lines) {
    std::vector<int> out;
    out.reserve(lines.size() - prefix - suffix);
    for (size_t i = prefix; i < lines.size() - suffix; ++i)
      out.push_back(ids.emplace(lines[i], static_cast<int>(ids.size())).first->second);
    return out;
  };
  auto ia = intern(a);
  auto ib = intern(b);
  if (ia.empty() && ib.empty()) return {};
  return shortest_edit(ia, ib, prefix, prefix);
}

// "l,n" as in hunk headers: "l" alone when n is 1, the line before when n is 0.
std::string range(size_t begin, size_t count) {
  if (count == 1) return std::to_string(begin + 1);
  return std::to_string(count == 0 ? begin : begin + 1) + "," + std::to_string(count);
}

void append_line(std::string& out, char prefix, std::string_view line) {
  out += prefix;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view old_label, std::string_view new_label,
                         size_t context) {
  const Lines a = split_lines(before), b = split_lines(after);
  const auto changes = diff_lines(a, b);
  if (changes.empty()) return "";
  std::string out;
  out.append("--- ").append(old_label).append("\n+++ ").append(new_label).append("\n");
  for (size_t i = 0; i < changes.size();) {
    // Changes whose surrounding context would touch or overlap share one hunk.
    size_t j = i;
    while (j + 1 < changes.size() && changes[j + 1].a_begin - changes[j].a_end <= 2 * context)
      ++j;
    size_t a_from = changes[i].a_begin - std::min(context, changes[i].a_begin);
    size_t a_to = std::min(a.size(), changes[j].a_end + context);
    size_t b_from = changes[i].b_begin - (changes[i].a_begin - a_from);
    size_t b_to = changes[j].b_end + (a_to - changes[j].a_end);
    out += "@@ -" + range(a_from, a_to - a_from) + " +" + range(b_from, b_to - b_from) + " @@\n";
    size_t pos = a_from;
    for (size_t k = i; k <= j; ++k) {
      const Change& c = changes[k];
      for (; pos < c.a_begin; ++pos) append_line(out, ' ', a[pos]);
      for (size_t x = c.a_begin; x < c.a_end; ++x) append_line(out, '-', a[x]);
      for (size_t y = c.b_begin; y < c.b_end; ++y) append_line(out, '+', b[y]);
      pos = c.a_end;
    }
    for (; pos < a_to; ++pos) append_line(out, ' ', a[pos]);
    i = j + 1;
  }
  return out;
}

}  // namespace dsv4::tools
