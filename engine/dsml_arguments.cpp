#include "engine/dsml_arguments.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <optional>

#include "engine/python_json.hpp"

namespace dsv4::engine {
namespace {

using Json = nlohmann::ordered_json;

std::optional<Json> parse_json(const std::string& text) {
  Json v = Json::parse(text, nullptr, false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

// ```json ... ``` around the value.
std::optional<std::string> strip_code_fence(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (!s.starts_with("```") || !s.ends_with("```") || s.size() < 6) return std::nullopt;
  s = s.substr(3, s.size() - 6);
  auto newline = s.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  return std::string(s.substr(newline + 1));
}

// Python literals and trailing commas outside strings: True/False/None -> JSON, ",]" -> "]".
std::string pythonic_to_json(const std::string& s) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < s.size()) out += s[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    auto word_at = [&](std::string_view w) {
      bool starts = s.compare(i, w.size(), w) == 0;
      bool bounded_left = i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]));
      bool bounded_right = i + w.size() >= s.size() || !std::isalnum(static_cast<unsigned char>(s[i + w.size()]));
      return starts && bounded_left && bounded_right;
    };
    if (word_at("True")) { out += "true"; i += 3; continue; }
    if (word_at("False")) { out += "false"; i += 4; continue; }
    if (word_at("None")) { out += "null"; i += 3; continue; }
    if (c == ',') {
      size_t j = i + 1;
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && (s[j] == ']' || s[j] == '}')) continue;
    }
    out += c;
  }
  return out;
}

struct Repaired {
  Json value;
  std::string how;
};

std::optional<Repaired> repair(const std::string& raw) {
  std::string text = raw;
  std::string how;
  if (auto inner = strip_code_fence(text)) {
    text = *inner;
    how = "removed a code fence";
    if (auto v = parse_json(text)) return Repaired{*v, how};
  }
  std::string pythonic = pythonic_to_json(text);
  if (pythonic != text) {
    if (auto v = parse_json(pythonic)) return Repaired{*v, (how.empty() ? "" : how + ", ") + "rewrote Python literals / trailing commas"};
  }
  // Single quotes as string delimiters, when the text has no double quote to confuse.
  if (text.find('"') == std::string::npos && text.find('\'') != std::string::npos) {
    std::string quoted = pythonic_to_json(text);
    for (char& c : quoted)
      if (c == '\'') c = '"';
    if (auto v = parse_json(quoted)) return Repaired{*v, (how.empty() ? "" : how + ", ") + "replaced single quotes"};
  }
  return std::nullopt;
}

std::string excerpt(const std::string& s) {
  return s.size() <= 80 ? s : s.substr(0, 77) + "...";
}

}  // namespace

DecodedArguments decode_arguments(const ParsedToolCall& call) {
  DecodedArguments out;
  if (!call.error.empty()) {
    out.error = "tool call '" + call.name + "': " + call.error;
    return out;
  }
  Json args = Json::object();
  for (const auto& p : call.parameters) {
    if (p.is_string) {
      args[p.name] = p.value;
      continue;
    }
    Json parsed = Json::parse(p.value, nullptr, false);
    if (!parsed.is_discarded()) {
      args[p.name] = std::move(parsed);
      continue;
    }
    if (auto fixed = repair(p.value)) {
      args[p.name] = std::move(fixed->value);
      out.repairs.push_back("parameter '" + p.name + "': " + fixed->how);
      continue;
    }
    std::string why;
    try {
      Json unused = Json::parse(p.value);
    } catch (const Json::parse_error& e) {
      why = e.what();
      if (auto colon = why.find("parse error"); colon != std::string::npos) why = why.substr(colon);
    }
    out.error = "tool call '" + call.name + "': parameter '" + p.name +
                "' is marked string=\"false\" but its value is not JSON (" + why + "): `" +
                excerpt(p.value) + "`. Send a JSON value, or string=\"true\" if it is text.";
    return out;
  }
  out.json = python_json(args);
  return out;
}

}  // namespace dsv4::engine
