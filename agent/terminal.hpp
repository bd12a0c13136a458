#pragma once
// The interactive front end's side of the terminal: shows the loop's events to a person
// (the answer streamed to stdout; thinking, tool calls and notes to stderr) and asks them
// for prompts and approvals. Works on a pipe too, which is how it is scripted and tested.
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>

#include "agent/messages.hpp"

namespace dsv4::agent {

class Terminal {
 public:
  // `color`: ANSI styles (dim thinking, bold tool names); off when not on a terminal.
  Terminal(std::istream& in, std::ostream& out, std::ostream& err, bool color);

  // One loop event (see AgentLoop); unknown types are ignored.
  void show(const nlohmann::json& event);
  // "Run NAME ...? [y]es, [n]o, [a]lways for NAME"; end of input answers no.
  bool approve(const ToolCall& call);
  // The next prompt; nullopt at the end of input or on /exit.
  std::optional<std::string> prompt();

 private:
  void end_line();  // ends a streamed line before other output
  std::string style(const char* code, const std::string& text) const;

  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  bool color_;
  bool in_content_ = false;    // streaming the answer to out_
  bool in_reasoning_ = false;  // streaming thinking to err_
  std::set<std::string> always_;
};

}  // namespace dsv4::agent
