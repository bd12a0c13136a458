#include "agent/tool_repair.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/dsml_arguments.hpp"
#include "engine/dsml_parser.hpp"
#include "tools/registry.hpp"
#include "tools/schema.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

namespace {

// The index of the next character that is neither white space nor inside a // or /* */
// comment; in.size() when there is none.
size_t skip_blanks_and_comments(std::string_view in, size_t i) {
  while (i < in.size()) {
    if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n') {
      ++i;
    } else if (in.substr(i, 2) == "//") {
      i = in.find('\n', i);
      if (i == std::string_view::npos) return in.size();
    } else if (in.substr(i, 2) == "/*") {
      size_t end = in.find("*/", i + 2);
      if (end == std::string_view::npos) return in.size();
      i = end + 2;
    } else {
      break;
    }
  }
  return i;
}

std::string_view trimmed(std::string_view s) {
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// ```lang ... ``` around trimmed text: takes the fence off; false when there is none.
bool strip_fence(std::string_view& s) {
  if (s.size() <= 6 || !s.starts_with("```") || !s.ends_with("```")) return false;
  s = s.substr(3, s.size() - 6);
  s.remove_prefix(std::min(s.size(), s.find_first_not_of("abcdefghijklmnopqrstuvwxyz")));
  s = trimmed(s);
  return true;
}

void note(std::vector<std::string>& repairs, const std::string& what) {
  if (std::find(repairs.begin(), repairs.end(), what) == repairs.end()) repairs.push_back(what);
}

void escape_control(char c, std::string& out, std::vector<std::string>& repairs) {
  note(repairs, "escaped raw control characters inside strings");
  if (c == '\n')
    out += "\\n";
  else if (c == '\t')
    out += "\\t";
  else if (c == '\r')
    out += "\\r";
  else {
    static const char* hex = "0123456789abcdef";
    out += "\\u00";
    out += hex[(c >> 4) & 0xF];
    out += hex[c & 0xF];
  }
}

// One pass over almost-JSON that fixes the lexical slips models make.
std::string rewrite(std::string_view in, std::vector<std::string>& repairs) {
  std::string out;
  out.reserve(in.size() + 16);
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '"' || c == '\'') {
      const char quote = c;
      if (quote == '\'') note(repairs, "replaced single-quoted strings with double-quoted ones");
      out += '"';
      for (++i; i < in.size() && in[i] != quote; ++i) {
        char s = in[i];
        if (s == '\\' && i + 1 < in.size()) {
          if (quote == '\'' && in[i + 1] == '\'') {
            out += '\'';
          } else {
            out += s;
            out += in[i + 1];
          }
          ++i;
        } else if (static_cast<unsigned char>(s) < 0x20) {
          escape_control(s, out, repairs);
        } else if (quote == '\'' && s == '"') {
          out += "\\\"";
        } else {
          out += s;
        }
      }
      if (i < in.size()) out += '"';  // else unterminated: the parser reports it
      continue;
    }
    if (c == '/' && i + 1 < in.size() && in[i + 1] == '/') {
      note(repairs, "removed comments");
      while (i < in.size() && in[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < in.size() && in[i + 1] == '*') {
      size_t end = in.find("*/", i + 2);
      if (end == std::string_view::npos) {
        out.append(in.substr(i));  // unterminated comment: leave it for the parser to reject
        break;
      }
      note(repairs, "removed comments");
      i = end + 1;
      continue;
    }
    if (c == ',') {
      size_t j = skip_blanks_and_comments(in, i + 1);
      if (j < in.size() && (in[j] == '}' || in[j] == ']')) {
        note(repairs, "removed trailing commas");
        continue;
      }
    }
    out += c;
  }
  return out;
}

std::string schema_hint(const tools::Tool& tool) {
  return "; send one JSON object matching this schema: " + Json::parse(tool.schema).dump();
}

std::string valid_names() {
  std::vector<std::string> names;
  for (const tools::Tool& t : tools::all_tools()) names.emplace_back(t.name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

RepairedJson repair_json_object(std::string_view text) {
  RepairedJson r;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    r.json = "{}";
    r.repairs.push_back("read empty arguments as {}");
    return r;
  }
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_discarded() && j.is_string()) {  // the object, JSON-encoded once more
    Json inner = Json::parse(j.get<std::string>(), nullptr, false);
    if (!inner.is_discarded() && inner.is_object()) {
      r.json = inner.dump();
      r.repairs.push_back("decoded arguments that were a JSON string holding the object");
      return r;
    }
  }
  if (j.is_discarded()) {
    std::string_view body = trimmed(text);
    if (strip_fence(body))
      r.repairs.push_back("removed a Markdown code fence around the arguments");
    std::string fixed = rewrite(body, r.repairs);
    j = Json::parse(fixed, nullptr, false);
    if (j.is_discarded()) {
      try {
        [[maybe_unused]] Json unused = Json::parse(fixed);
      } catch (const Json::parse_error& e) {
        std::string what = e.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 9: ..." -> the tail
        if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
        r.error = "arguments are not valid JSON (" + what + ")";
        if (e.byte >= fixed.size()) r.error += "; they end before the JSON is complete (cut off?)";
      }
      r.repairs.clear();
      return r;
    }
  }
  if (!j.is_object()) {
    r.error = std::string("arguments must be a JSON object, not ") + j.type_name();
    r.repairs.clear();
    return r;
  }
  r.json = j.dump();
  return r;
}

PreparedCall prepare_call(const ToolCall& call) {
  PreparedCall p;
  p.call = call;
  p.tool = tools::find_tool(call.name);
  std::vector<std::string> name_repairs;
  // OpenAI-style namespaced names ("functions.read_file") name the tool after the dot.
  if (size_t dot = call.name.rfind('.'); !p.tool && dot != std::string::npos) {
    p.tool = tools::find_tool(std::string_view(call.name).substr(dot + 1));
    if (p.tool) {
      name_repairs.push_back("read tool name '" + call.name + "' as '" + std::string(p.tool->name) + "'");
      p.call.name = p.tool->name;
    }
  }
  if (!p.tool) {
    p.error = "unknown tool '" + call.name + "'; valid tools: " + valid_names();
    return p;
  }
  RepairedJson r = repair_json_object(call.arguments);
  if (!r.error.empty()) {
    p.error = call.name + ": " + r.error + schema_hint(*p.tool);
    return p;
  }
  Json args = Json::parse(r.json);
  const Json schema = Json::parse(p.tool->schema);
  // null for an optional field means "not given": strict mode makes every field required and
  // lets the model send null for those it would leave out.
  const Json required = schema.value("required", Json::array());
  bool dropped = false;
  for (auto it = args.begin(); it != args.end();) {
    bool optional_null =
        it->is_null() && std::find(required.begin(), required.end(), it.key()) == required.end();
    it = optional_null ? args.erase(it) : std::next(it);
    dropped |= optional_null;
  }
  if (auto violation = tools::validate(schema, args)) {
    p.error = call.name + ": invalid arguments: " + *violation + schema_hint(*p.tool);
    return p;
  }
  p.arguments = dropped ? args.dump() : std::move(r.json);
  p.repairs = std::move(name_repairs);
  p.repairs.insert(p.repairs.end(), r.repairs.begin(), r.repairs.end());
  return p;
}

namespace {

constexpr std::string_view kBar = "｜";  // U+FF5C, what the V4 tokenizer's DSML tokens use
// The bars models and servers put around "DSML": U+FF5C, ASCII '|', U+2016 '‖'.
constexpr std::string_view kBars[] = {kBar, "|", "‖"};

// The length of the bar that starts at `i`, or 0.
size_t bar_after(std::string_view text, size_t i) {
  for (std::string_view bar : kBars)
    if (text.substr(i, bar.size()) == bar) return bar.size();
  return 0;
}

// The length of the bar that ends at `i`, or 0.
size_t bar_before(std::string_view text, size_t i) {
  for (std::string_view bar : kBars)
    if (i >= bar.size() && text.substr(i - bar.size(), bar.size()) == bar) return bar.size();
  return 0;
}

// Where the tag opens whose name starts at `at` ("<" or "</" right before it); npos when the
// text there is no tag.
size_t tag_open(std::string_view text, size_t at) {
  if (at >= 2 && text.substr(at - 2, 2) == "</") return at - 2;
  if (at >= 1 && text[at - 1] == '<') return at - 1;
  return std::string_view::npos;
}

// Rewrites every tag-like DSML marker ("<|DSML|", "</｜｜DSML｜｜", "<‖DSML‖", one or two bars
// a side) to the canonical "<｜DSML｜" the parser reads; other text is left as it is.
bool normalize_dsml_markers(std::string& text) {
  bool found = false;
  std::string out;
  size_t copied = 0;
  for (size_t at = text.find("DSML"); at != std::string::npos; at = text.find("DSML", at + 4)) {
    size_t start = at, end = at + 4;
    for (int k = 0; k < 2; ++k) {
      start -= bar_before(text, start);
      end += bar_after(text, end);
    }
    if (start == at || end == at + 4 || tag_open(text, start) == std::string_view::npos) continue;
    found = true;
    out.append(text, copied, start - copied);
    out.append(kBar).append("DSML").append(kBar);
    copied = end;
  }
  if (!found) return false;
  out.append(text, copied);
  text = std::move(out);
  return true;
}

// Drops DSML tags the parser left in the visible text: stray closing tags, an opening tag
// with nothing after it, a tag cut off at the end.
void strip_dsml_residue(std::string& text) {
  const std::string marker = std::string(kBar) + "DSML" + std::string(kBar);
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at)) {
    const size_t start = tag_open(text, at);
    if (start == std::string_view::npos) {
      at += marker.size();  // not a tag: text that mentions the marker
      continue;
    }
    size_t end = text.find('>', at);
    end = end == std::string::npos ? text.size() : end + 1;
    text.erase(start, end - start);
    at = start;
  }
}

// Where the DSML section that starts the search ends: after its closing tag, or the end.
size_t section_end(std::string_view text, size_t from) {
  size_t end = text.size();
  for (std::string_view close : {"</｜DSML｜tool_calls>", "</｜DSML｜function_calls>"})
    if (size_t at = text.find(close, from); at != std::string_view::npos)
      end = std::min(end, at + close.size());
  return end;
}

// Takes DSML tool calls out of `text` (any bar variant), leaving the visible text. Each
// section is parsed on its own so that the prose between sections keeps its line breaks.
void take_dsml_calls(std::string& text, std::vector<LeakedCall>& out, size_t& n) {
  if (!normalize_dsml_markers(text)) return;
  std::string visible;
  for (size_t from = 0; from < text.size();) {
    const size_t end = section_end(text, from);
    engine::ParsedMessage parsed = engine::parse_completion(
        std::string_view(text).substr(from, end - from), {.thinking = false, .strict = false});
    from = end;
    for (const engine::ParsedToolCall& c : parsed.tool_calls) {
      LeakedCall leaked;
      leaked.call.id = "dsml_" + std::to_string(++n);
      leaked.call.name = c.name;
      if (!c.error.empty()) {
        leaked.error = (c.name.empty() ? std::string("a tool call") : c.name) +
                       ": the tool call in DSML markup was not complete: " + c.error;
      } else {
        engine::DecodedArguments args = engine::decode_arguments(c);
        if (args.error.empty())
          leaked.call.arguments = args.json;
        else
          leaked.error = c.name + ": " + args.error;
      }
      out.push_back(std::move(leaked));
    }
    strip_dsml_residue(parsed.content);
    std::string_view piece = trimmed(parsed.content);
    if (!piece.empty()) visible.append(visible.empty() ? "" : "\n").append(piece);
  }
  text = std::move(visible);
}

// {"name": NAME, "arguments": {...} or "..."} as a call; nothing when it is not one, or
// when `known_only` and NAME is no tool (then it is more likely an example than a call).
std::optional<LeakedCall> json_call(std::string_view text, bool known_only, size_t& n) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string())
    return std::nullopt;
  const char* key = j.contains("arguments")    ? "arguments"
                    : j.contains("parameters") ? "parameters"
                                               : nullptr;
  if (!key || j.size() != 2) return std::nullopt;
  std::string name = j["name"].get<std::string>();
  if (known_only && !tools::find_tool(name)) return std::nullopt;
  LeakedCall leaked;
  leaked.call.id = "text_" + std::to_string(++n);
  leaked.call.name = name;
  const Json& args = j[key];
  leaked.call.arguments = args.is_string() ? args.get<std::string>() : args.dump();
  return leaked;
}

// The JSON inside a tag, forgiving closing tags a model invented after it
// (`{...}</parameter>` seen inside <tool> blocks).
std::optional<LeakedCall> tagged_json_call(std::string_view inner, size_t& n) {
  inner = trimmed(inner);
  while (true) {
    if (auto call = json_call(inner, false, n)) return call;
    size_t tag = inner.rfind("</");
    if (tag == std::string_view::npos || inner.back() != '>') return std::nullopt;
    inner = trimmed(inner.substr(0, tag));
  }
}

// <tool_call>{json}</tool_call> and <tool>{json}</tool> blocks (Hermes/Qwen style; the
// closing tag may be missing when the output was cut off).
void take_tagged_json_calls(std::string& text, std::vector<LeakedCall>& out, size_t& n) {
  for (auto [open, close] : {std::pair<std::string_view, std::string_view>{"<tool_call>", "</tool_call>"},
                             {"<tool>", "</tool>"}}) {
    for (size_t pos = text.find(open); pos != std::string::npos; pos = text.find(open, pos)) {
      size_t end = text.find(close, pos);
      size_t inner_end = end == std::string::npos ? text.size() : end;
      auto call = tagged_json_call(
          std::string_view(text).substr(pos + open.size(), inner_end - pos - open.size()), n);
      if (!call) {
        pos += open.size();
        continue;
      }
      out.push_back(std::move(*call));
      text.erase(pos, (end == std::string::npos ? text.size() : end + close.size()) - pos);
    }
  }
}

// A whole content that is one {"name", "arguments"} object of a known tool, bare or in a
// Markdown fence.
void take_whole_json_call(std::string& text, std::vector<LeakedCall>& out, size_t& n) {
  std::string_view whole = trimmed(text);
  strip_fence(whole);
  if (auto call = json_call(trimmed(whole), true, n)) {
    out.push_back(std::move(*call));
    text.clear();
  }
}

}  // namespace

std::vector<LeakedCall> recover_leaked_calls(Message& assistant) {
  std::vector<LeakedCall> recovered;
  size_t n = assistant.tool_calls.size();
  take_dsml_calls(assistant.content, recovered, n);
  take_tagged_json_calls(assistant.content, recovered, n);
  take_whole_json_call(assistant.content, recovered, n);
  // Calls drafted in the reasoning count only when the turn has no calls anywhere else
  // (a missing </think> puts the whole answer, calls included, into the reasoning).
  if (recovered.empty() && assistant.tool_calls.empty() && assistant.reasoning_content) {
    take_dsml_calls(*assistant.reasoning_content, recovered, n);
    take_tagged_json_calls(*assistant.reasoning_content, recovered, n);
  }
  return recovered;
}

}  // namespace dsv4::agent
