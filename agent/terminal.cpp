#include "agent/terminal.hpp"

#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "tools/utf8_text.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

namespace {

constexpr size_t kArgumentsShown = 160;  // a tool call's arguments, on one line
constexpr size_t kErrorShown = 240;

std::string one_line(std::string text, size_t limit) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > limit) text = text.substr(0, tools::utf8_floor(text, limit)) + "…";
  return text;
}

}  // namespace

Terminal::Terminal(std::istream& in, std::ostream& out, std::ostream& err, bool color)
    : in_(in), out_(out), err_(err), color_(color) {}

std::string Terminal::style(const char* code, const std::string& text) const {
  return color_ ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

void Terminal::end_line() {
  if (in_content_) out_ << "\n" << std::flush;
  if (in_reasoning_) err_ << style("2", "") << "\n";
  in_content_ = in_reasoning_ = false;
}

void Terminal::show(const Json& event) {
  const std::string type = event.value("type", "");
  if (type == "reasoning_delta") {
    if (in_content_) end_line();
    if (!in_reasoning_) err_ << style("2", "thinking: ");
    in_reasoning_ = true;
    err_ << style("2", event.value("text", "")) << std::flush;
  } else if (type == "content_delta") {
    if (in_reasoning_) end_line();
    in_content_ = true;
    out_ << event.value("text", "") << std::flush;
  } else if (type == "message") {
    const Json& m = event.at("message");
    if (m.value("role", "") == "assistant") {
      end_line();
      for (const Json& call : m.value("tool_calls", Json::array())) {
        const Json& f = call.at("function");
        err_ << style("1", "● " + f.value("name", "")) << " "
             << one_line(f.value("arguments", ""), kArgumentsShown) << "\n";
      }
    } else if (m.value("role", "") == "tool") {
      Json result = Json::parse(m.value("content", ""), nullptr, false);
      if (result.is_object() && result.value("ok", true) == false)
        err_ << style("31", "  ✗ " + one_line(result.value("error", ""), kErrorShown)) << "\n";
    }
  } else if (type == "tool") {
    if (event.value("ok", false))
      err_ << style("32", "  ✓") << style("2", " " + std::to_string(static_cast<int>(
                                                       event.value("seconds", 0.0) * 1000)) +
                                               " ms")
           << "\n";
  } else if (type == "notice") {
    end_line();
    err_ << style("33", "note: " + event.value("text", "")) << "\n";
  } else if (type == "compaction") {
    end_line();
    err_ << style("33", "note: older turns compacted into a summary (about " +
                            std::to_string(event.value("tokens_before", 0L)) + " → " +
                            std::to_string(event.value("tokens_after", 0L)) + " tokens)")
         << "\n";
  } else if (type == "error") {
    end_line();
    err_ << style("31", "error: " + event.value("text", "")) << "\n";
  }
}

bool Terminal::approve(const ToolCall& call) {
  end_line();
  if (always_.count(call.name)) return true;
  err_ << style("1", "run " + call.name) << " " << one_line(call.arguments, kArgumentsShown)
       << "? [y]es, [n]o, [a]lways for " << call.name << ": " << std::flush;
  std::string answer;
  if (!std::getline(in_, answer)) return false;
  if (answer == "a" || answer == "always") always_.insert(call.name);
  return answer == "y" || answer == "yes" || answer == "a" || answer == "always";
}

std::optional<std::string> Terminal::prompt() {
  end_line();
  err_ << style("1", "> ") << std::flush;
  std::string line;
  while (std::getline(in_, line)) {
    if (line == "/exit" || line == "/quit") return std::nullopt;
    if (line.find_first_not_of(" \t") != std::string::npos) return line;
    err_ << style("1", "> ") << std::flush;
  }
  err_ << "\n";
  return std::nullopt;
}

}  // namespace dsv4::agent
