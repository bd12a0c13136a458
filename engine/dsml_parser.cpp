#include "engine/dsml_parser.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "engine/python_json.hpp"

#include <nlohmann/json.hpp>

namespace dsv4::engine {
namespace {

enum class Tok {
  think_end, think_start, eos, bos, dsml_bare,
  opener, invoke_open, invoke_close, param_open, param_close, block_close,
  flag_true, flag_false, tag_end, stray,
};

struct Marker {
  std::string text;
  Tok tok;
};

// The markers one state watches for, found in a single pass over the text.
class MarkerSet {
 public:
  MarkerSet() = default;
  explicit MarkerSet(std::vector<Marker> markers) : markers_(std::move(markers)) {
    // Longest first, so that at one position the most specific marker wins.
    std::stable_sort(markers_.begin(), markers_.end(),
                     [](const Marker& a, const Marker& b) { return a.text.size() > b.text.size(); });
    for (const auto& m : markers_) first_[static_cast<unsigned char>(m.text[0])] = true;
  }

  struct Scan {
    size_t pos;              // where the text before the marker (or hold) ends
    const Marker* marker;    // the marker found at pos, or null
  };

  // The earliest marker at or after `from`. Without one, pos is where a possible marker
  // prefix begins at the very end (held back until more text arrives), or the text's end.
  Scan find(std::string_view text, size_t from, bool at_end) const {
    for (size_t i = from; i < text.size(); ++i) {
      if (!first_[static_cast<unsigned char>(text[i])]) continue;
      std::string_view rest = text.substr(i);
      const Marker* hit = nullptr;
      bool pending = false;
      for (const auto& m : markers_) {
        if (rest.size() >= m.text.size()) {
          if (!hit && rest.starts_with(m.text)) hit = &m;
        } else if (!at_end && std::string_view(m.text).starts_with(rest)) {
          pending = true;
        }
      }
      if (pending) return {i, nullptr};
      if (hit) return {i, hit};
    }
    return {text.size(), nullptr};
  }

 private:
  std::vector<Marker> markers_;
  std::array<bool, 256> first_{};
};

enum class State {
  reasoning, content, block_gap, invoke_header, param_header, param_value, param_tail,
  after_block, after_eos, failed, count
};

constexpr std::string_view kFullBar = "｜";

// The tolerant grammar also accepts the ASCII bar some decoders and models produce.
void add(std::vector<Marker>& out, std::string text, Tok tok, bool ascii_variant) {
  if (ascii_variant && text.find(kFullBar) != std::string::npos) {
    std::string ascii = text;
    for (size_t p; (p = ascii.find(kFullBar)) != std::string::npos;) ascii.replace(p, kFullBar.size(), "|");
    out.push_back({std::move(ascii), tok});
  }
  out.push_back({std::move(text), tok});
}

std::array<MarkerSet, static_cast<size_t>(State::count)> build_markers(bool strict) {
  std::array<std::vector<Marker>, static_cast<size_t>(State::count)> m;
  auto at = [&](State s) -> std::vector<Marker>& { return m[static_cast<size_t>(s)]; };
  bool v = !strict;
  const std::string eos = "<｜end▁of▁sentence｜>", bos = "<｜begin▁of▁sentence｜>";
  if (strict) {
    for (State s : {State::reasoning, State::content}) {
      add(at(s), "\n\n<｜DSML｜tool_calls", Tok::opener, false);
      add(at(s), "<think>", Tok::think_start, false);
      add(at(s), "</think>", Tok::think_end, false);
      add(at(s), bos, Tok::bos, false);
      add(at(s), eos, Tok::eos, false);
      add(at(s), "｜DSML｜", Tok::dsml_bare, false);
    }
    add(at(State::block_gap), "<｜DSML｜invoke", Tok::invoke_open, false);
    add(at(State::block_gap), "</｜DSML｜tool_calls>", Tok::block_close, false);
    for (State s : {State::invoke_header, State::param_tail}) {
      add(at(s), "<｜DSML｜parameter", Tok::param_open, false);
      add(at(s), "</｜DSML｜invoke", Tok::invoke_close, false);
    }
    add(at(State::param_header), "\" string=\"true\">", Tok::flag_true, false);
    add(at(State::param_header), "\" string=\"false\">", Tok::flag_false, false);
    add(at(State::param_header), "/｜DSML｜parameter", Tok::param_close, false);
    add(at(State::param_value), "/｜DSML｜parameter", Tok::param_close, false);
    add(at(State::after_block), eos, Tok::eos, false);
  } else {
    auto openers = [&](State s) {
      for (const char* name : {"tool_calls", "function_calls"}) {
        add(at(s), std::string("\n\n<｜DSML｜") + name, Tok::opener, v);
        add(at(s), std::string("<｜DSML｜") + name, Tok::opener, v);
      }
    };
    auto strays = [&](State s) {
      for (const char* tag : {"</｜DSML｜tool_calls>", "</｜DSML｜function_calls>", "</｜DSML｜invoke>",
                              "</｜DSML｜parameter>"})
        add(at(s), tag, Tok::stray, v);
    };
    for (State s : {State::reasoning, State::content}) {
      openers(s);
      strays(s);
      add(at(s), "<｜DSML｜invoke", Tok::invoke_open, v);
      add(at(s), "<think>", Tok::think_start, v);
      add(at(s), "</think>", Tok::think_end, v);
      add(at(s), bos, Tok::bos, v);
      add(at(s), eos, Tok::eos, v);
    }
    State gap = State::block_gap;
    add(at(gap), "<｜DSML｜invoke", Tok::invoke_open, v);
    add(at(gap), "</｜DSML｜tool_calls>", Tok::block_close, v);
    add(at(gap), "</｜DSML｜function_calls>", Tok::block_close, v);
    add(at(gap), "</｜DSML｜invoke>", Tok::stray, v);
    add(at(gap), "</｜DSML｜parameter>", Tok::stray, v);
    add(at(gap), "</think>", Tok::think_end, v);
    openers(gap);
    for (State s : {State::invoke_header, State::param_tail, State::param_header}) {
      add(at(s), "</｜DSML｜tool_calls>", Tok::block_close, v);
      add(at(s), "</｜DSML｜function_calls>", Tok::block_close, v);
    }
    for (State s : {State::invoke_header, State::param_tail}) {
      add(at(s), "<｜DSML｜parameter", Tok::param_open, v);
      add(at(s), "</｜DSML｜invoke", Tok::invoke_close, v);
    }
    add(at(State::param_header), "\" string=\"true\">", Tok::flag_true, false);
    add(at(State::param_header), "\" string=\"false\">", Tok::flag_false, false);
    add(at(State::param_header), ">", Tok::tag_end, false);
    add(at(State::param_header), "</｜DSML｜parameter", Tok::param_close, v);
    add(at(State::param_value), "</｜DSML｜parameter", Tok::param_close, v);
    for (State s : {State::block_gap, State::invoke_header, State::param_header, State::param_tail})
      add(at(s), eos, Tok::eos, v);
  }
  std::array<MarkerSet, static_cast<size_t>(State::count)> sets;
  for (size_t i = 0; i < sets.size(); ++i) sets[i] = MarkerSet(std::move(m[i]));
  return sets;
}

const MarkerSet& markers(bool strict, State state) {
  static const auto strict_sets = build_markers(true);
  static const auto tolerant_sets = build_markers(false);
  return (strict ? strict_sets : tolerant_sets)[static_cast<size_t>(state)];
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Tolerant tag attributes: name="x", name='x' or name=x, any whitespace between.
struct Attributes {
  std::vector<std::pair<std::string, std::string>> items;
  std::string error;
  const std::string* get(std::string_view key) const {
    for (const auto& [k, v] : items)
      if (k == key) return &v;
    return nullptr;
  }
};

Attributes parse_attributes(std::string_view s) {
  Attributes attrs;
  size_t i = 0;
  auto skip = [&] { while (i < s.size() && is_space(s[i])) ++i; };
  for (skip(); i < s.size(); skip()) {
    size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
    std::string key(s.substr(key_start, i - key_start));
    skip();
    if (key.empty() || i >= s.size() || s[i] != '=') {
      attrs.error = "expected name=\"...\" in tag attributes '" + std::string(s) + "'";
      return attrs;
    }
    ++i;
    skip();
    std::string value;
    if (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
      char quote = s[i++];
      size_t end = s.find(quote, i);
      if (end == std::string_view::npos) {
        attrs.error = "unterminated quote in tag attributes '" + std::string(s) + "'";
        return attrs;
      }
      value = s.substr(i, end - i);
      i = end + 1;
    } else {
      size_t start = i;
      while (i < s.size() && !is_space(s[i])) ++i;
      value = s.substr(start, i - start);
    }
    attrs.items.emplace_back(std::move(key), std::move(value));
  }
  return attrs;
}

}  // namespace

struct DsmlParser::Impl {
  DsmlOptions options;
  Handler handler;
  State state;
  std::string buf;      // unconsumed input starts at pos
  size_t pos = 0;
  size_t base = 0;      // stream offset of buf[0]
  std::string acc;      // structure text of the current tag or gap
  std::string value;    // current parameter value
  std::string call_name, param_name, call_error;
  bool param_is_string = true;
  bool in_call = false;
  std::vector<std::string> param_names;
  State block_return = State::content;  // where text resumes after a block
  bool implicit_block = false;          // invokes without a tool_calls wrapper
  bool explicit_open = false;           // inside <tool_calls> not yet closed
  bool skip_space = false;              // drop whitespace right after a block
  bool junk_noted = false;
  std::vector<DsmlIssue> issues;
  bool truncated = false;
  bool saw_eos = false;

  Impl(DsmlOptions o, Handler h)
      : options(o), handler(std::move(h)), state(o.thinking ? State::reasoning : State::content) {}

  size_t offset() const { return base + pos; }
  void issue(std::string message) { issues.push_back({offset(), std::move(message)}); }

  [[noreturn]] void fail(DsmlError::Kind kind, const std::string& message) {
    state = State::failed;
    throw DsmlError(kind, message);
  }
  [[noreturn]] void fail_format(const std::string& m) { fail(DsmlError::Kind::format, m); }
  [[noreturn]] void fail_structure(const std::string& m) { fail(DsmlError::Kind::structure, m); }

  void emit(DsmlEventKind kind, std::string_view text, std::string_view name = {}, bool is_string = false,
            std::string_view error = {}) {
    handler(DsmlEvent{kind, text, name, is_string, error});
  }

  void run(bool at_end) {
    while (state != State::failed && state != State::after_eos) {
      auto scan = markers(options.strict, state).find(buf, pos, at_end);
      if (scan.pos > pos) {
        size_t used = take_text(std::string_view(buf).substr(pos, scan.pos - pos));
        pos += used;
        if (pos < scan.pos) continue;  // the state changed inside the text: rescan
      }
      if (!scan.marker) break;
      pos += scan.marker->text.size();
      on_marker(*scan.marker);
    }
    if (state == State::after_eos && pos < buf.size()) {
      if (options.strict) fail_format("Unexpected content at end: text after the end-of-sentence token");
      if (!trim(std::string_view(buf).substr(pos)).empty()) issue("text after the end-of-sentence token ignored");
      pos = buf.size();
    }
    if (pos > 65536 && pos * 2 > buf.size()) {
      buf.erase(0, pos);
      base += pos;
      pos = 0;
    }
  }

  // Consumes text that holds no marker of the current state; returns how much it used.
  size_t take_text(std::string_view text) {
    switch (state) {
      case State::reasoning:
      case State::content: {
        size_t start = 0;
        if (skip_space) {
          while (start < text.size() && is_space(text[start])) ++start;
          if (start == text.size()) return text.size();
          skip_space = false;
          if (state == State::content) issue("text after the tool calls kept as content");
        }
        emit(state == State::reasoning ? DsmlEventKind::reasoning : DsmlEventKind::content, text.substr(start));
        return text.size();
      }
      case State::block_gap:
      case State::param_tail:
        return take_gap(text);
      case State::invoke_header:
      case State::param_header:
        acc += text;
        return text.size();
      case State::param_value:
        value += text;
        return text.size();
      case State::after_block:
        fail_format("Unexpected content after tool calls: '" + std::string(text) + "'");
      case State::after_eos:
      case State::failed:
      case State::count:
        break;
    }
    return text.size();
  }

  // Between tags: strictly ">\n"; tolerantly '>' and whitespace. Text that follows an
  // unwrapped invoke is content again.
  size_t take_gap(std::string_view text) {
    if (options.strict) {
      acc += text;
      if (!std::string_view(">\n").starts_with(acc))
        fail_structure("Tool call format error: expected '>\\n' but got '" + acc + "'");
      return text.size();
    }
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (is_space(c) || (c == '>' && acc.empty())) {
        acc += c;
        continue;
      }
      if (state == State::block_gap && implicit_block) {
        leave_block();
        return i;
      }
      if (!junk_noted) issue("unexpected text between DSML tags skipped");
      junk_noted = true;
      acc += c;
    }
    return text.size();
  }

  void leave_block() {
    state = block_return;
    implicit_block = explicit_open = false;
    skip_space = true;
  }

  void start_block(bool implicit) {
    if (state == State::reasoning) {
      if (options.strict) fail_format("Invalid thinking format: missing </think>");
      issue("tool calls inside the reasoning (before </think>)");
    }
    if (state == State::reasoning || state == State::content) block_return = state;
    implicit_block = implicit;
    explicit_open = !implicit;
    acc.clear();
    junk_noted = false;
  }

  void check_gap() {
    if (options.strict && acc != ">\n")
      fail_structure("Tool call format error: expected '>\\n' but got '" + acc + "'");
    acc.clear();
    junk_noted = false;
  }

  void on_marker(const Marker& m) {
    switch (state) {
      case State::reasoning:
      case State::content: on_text_marker(m); break;
      case State::block_gap: on_gap_marker(m); break;
      case State::invoke_header: on_header_marker(m); break;
      case State::param_header: on_param_header_marker(m); break;
      case State::param_value: close_parameter(); break;
      case State::param_tail: on_tail_marker(m); break;
      case State::after_block: state = State::after_eos, saw_eos = true; break;
      default: break;
    }
  }

  void on_text_marker(const Marker& m) {
    bool reasoning = state == State::reasoning;
    switch (m.tok) {
      case Tok::think_end:
        if (reasoning) {
          state = State::content;
          skip_space = false;
          return;
        }
        break;
      case Tok::eos:
        if (reasoning) {
          if (options.strict) fail_format("Invalid thinking format: missing </think>");
          issue("the reasoning was not closed with </think>");
        }
        saw_eos = true;
        state = State::after_eos;
        return;
      case Tok::opener:
        start_block(false);
        state = State::block_gap;
        if (!options.strict && m.text.front() != '\n') issue("tool-call block without a blank line before it");
        return;
      case Tok::invoke_open:
        start_block(true);
        issue("invoke outside a tool_calls block");
        state = State::invoke_header;
        return;
      case Tok::think_start:
        if (!options.strict && !reasoning) {
          issue("<think> inside the content: reasoning until </think>");
          state = State::reasoning;
          return;
        }
        break;
      default:
        break;
    }
    if (options.strict) fail_format("Unexpected special token '" + m.text + "' in content");
    issue("stray '" + m.text + "' skipped");
  }

  void on_gap_marker(const Marker& m) {
    switch (m.tok) {
      case Tok::invoke_open:
        check_gap();
        state = State::invoke_header;
        return;
      case Tok::block_close:
        check_gap();
        if (options.strict) {
          state = State::after_block;
        } else {
          leave_block();
        }
        return;
      case Tok::eos:
        if (explicit_open) issue("the tool_calls block was not closed");
        saw_eos = true;
        state = State::after_eos;
        return;
      case Tok::think_end:
        issue("</think> after tool calls: the block ends there");
        leave_block();
        if (block_return == State::reasoning) state = State::content, skip_space = false;
        return;
      default:
        issue("stray '" + m.text + "' skipped");
        return;
    }
  }

  // ` name="NAME">\n` after `<｜DSML｜invoke`.
  std::optional<std::string> header_name() {
    if (options.strict) {
      std::string_view s = acc;
      size_t i = 0;
      while (i < s.size() && (is_space(s[i]) || s[i] == '\v' || s[i] == '\f')) ++i;
      s.remove_prefix(i);
      if (!s.starts_with("name=\"")) return std::nullopt;
      s.remove_prefix(6);
      // Python's `$` also matches before one final newline.
      if (s.ends_with("\">\n\n")) return std::string(s.substr(0, s.size() - 4));
      if (s.ends_with("\">\n")) return std::string(s.substr(0, s.size() - 3));
      return std::nullopt;
    }
    std::string_view s = trim(acc);
    if (!s.ends_with('>')) return std::nullopt;
    Attributes attrs = parse_attributes(s.substr(0, s.size() - 1));
    const std::string* name = attrs.get("name");
    if (!attrs.error.empty() || !name || name->empty()) return std::nullopt;
    return *name;
  }

  void begin_call() {
    std::optional<std::string> name = header_name();
    if (!name) {
      if (options.strict) fail_structure("Tool name format error: '" + acc + "'");
      call_error = "malformed invoke tag '<｜DSML｜invoke" + acc + "'; write <｜DSML｜invoke name=\"TOOL\">";
    }
    call_name = name.value_or("");
    param_names.clear();
    in_call = true;
    acc.clear();
    emit(DsmlEventKind::call_begin, call_name);
  }

  void end_call(std::string_view error) {
    std::string message = call_error.empty() ? std::string(error) : call_error;
    in_call = false;
    call_error.clear();
    emit(DsmlEventKind::call_end, {}, {}, false, message);
  }

  void on_header_marker(const Marker& m) {
    begin_call();
    on_call_marker(m);
  }

  // Markers that can end a parameter tail or an invoke header.
  void on_call_marker(const Marker& m) {
    switch (m.tok) {
      case Tok::param_open:
        state = State::param_header;
        return;
      case Tok::invoke_close:
        end_call({});
        state = State::block_gap;
        return;
      case Tok::block_close:
        issue("missing </｜DSML｜invoke> before the end of the block");
        end_call({});
        leave_block();
        return;
      case Tok::eos:
        issue("missing </｜DSML｜invoke> before the end of the text");
        end_call({});
        saw_eos = true;
        state = State::after_eos;
        return;
      default:
        return;
    }
  }

  void on_tail_marker(const Marker& m) {
    check_gap();
    on_call_marker(m);
  }

  void on_param_header_marker(const Marker& m) {
    switch (m.tok) {
      case Tok::flag_true:
      case Tok::flag_false:
      case Tok::tag_end: {
        std::string header = acc;
        if (m.tok != Tok::tag_end) header += m.text.substr(0, m.text.size() - 1);
        open_parameter(header, m.tok);
        return;
      }
      case Tok::param_close:
        if (options.strict) fail_structure("Parameter format error: '" + acc + "'");
        call_error = "malformed parameter tag '<｜DSML｜parameter" + acc + "'";
        acc.clear();
        state = State::param_tail;
        return;
      default:  // block end or EOS inside the tag: the call is cut off
        call_error = "the call was cut off inside a parameter tag";
        acc.clear();
        on_call_marker(m);
        return;
    }
  }

  void open_parameter(const std::string& header, Tok tok) {
    acc.clear();
    value.clear();
    state = State::param_value;
    if (options.strict) {
      if (!header.starts_with(" name=\"")) fail_structure("Parameter format error: '" + header + "'");
      param_name = header.substr(7, header.size() - 7 - std::string_view("\" string=\"true\"").size() -
                                        (tok == Tok::flag_false ? 1 : 0));
      param_is_string = tok == Tok::flag_true;
      return;
    }
    Attributes attrs = parse_attributes(header);
    const std::string* name = attrs.get("name");
    const std::string* flag = attrs.get("string");
    if (!attrs.error.empty() || !name || !flag || (*flag != "true" && *flag != "false")) {
      std::string why = !attrs.error.empty() ? attrs.error
                        : !name              ? "no name attribute"
                                             : "string must be \"true\" or \"false\"";
      if (call_error.empty()) call_error = "malformed parameter tag '" + header + "': " + why;
      param_name = name ? *name : "";
      param_is_string = true;
      return;
    }
    param_name = *name;
    param_is_string = *flag == "true";
  }

  void close_parameter() {
    if (options.strict) {
      // The reference stops at "/｜DSML｜parameter", so the value must end with its '<'.
      if (value.ends_with("<")) {
        value.pop_back();
      } else if (value.ends_with("<\n")) {
        value.resize(value.size() - 2);
      } else {
        fail_structure("Parameter format error: '" + value + "'");
      }
    }
    if (std::find(param_names.begin(), param_names.end(), param_name) != param_names.end()) {
      if (options.strict) fail_structure("Duplicate parameter name: '" + param_name + "'");
      if (call_error.empty()) call_error = "duplicate parameter '" + param_name + "'";
    }
    param_names.push_back(param_name);
    emit(DsmlEventKind::parameter, value, param_name, param_is_string);
    value.clear();
    acc.clear();
    state = State::param_tail;
  }

  void finish() {
    run(false);
    std::string_view rest = std::string_view(buf).substr(pos);
    // What is left is a possible marker prefix. In text it is markup cut off by the
    // end of the stream unless it is only newlines.
    if ((state == State::reasoning || state == State::content) && !options.strict &&
        rest.find('<') != std::string_view::npos) {
      truncated = true;
      issue("the text ends inside a tag '" + std::string(rest) + "'");
      pos = buf.size();
    }
    run(true);
    switch (state) {
      case State::reasoning:
        if (options.strict) fail_format("Invalid thinking format: missing </think>");
        truncated = true;
        issue("the text ends inside the reasoning");
        break;
      case State::content:
        if (options.strict) fail_format("Invalid format: missing EOS token");
        break;
      case State::block_gap:
        if (options.strict && !acc.empty())
          fail_structure(acc == ">\n" ? "Missing special token in tool calls"
                                      : "Tool call format error: expected '>\\n' but got '" + acc + "'");
        if (!options.strict && explicit_open) {
          truncated = true;
          issue("the text ends inside the tool_calls block");
        }
        break;
      case State::invoke_header:
        begin_call();
        end_call(options.strict ? "" : "the call was cut off by the end of the text");
        truncated = !options.strict;
        break;
      case State::param_header:
      case State::param_value:
        if (options.strict) fail_structure("Parameter format error: '" + acc + value + "'");
        end_call("the call was cut off inside parameter '" + param_name + "'");
        truncated = true;
        break;
      case State::param_tail:
        if (options.strict) {
          if (acc != ">\n") fail_structure("Parameter format error: expected '>\\n' but got '" + acc + "'");
          end_call({});
        } else {
          end_call("the call was cut off before </｜DSML｜invoke>");
          truncated = true;
        }
        break;
      default:
        break;
    }
    if (state != State::failed) state = State::after_eos;
  }
};

DsmlParser::DsmlParser(DsmlOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(options, std::move(handler))) {}
DsmlParser::~DsmlParser() = default;

void DsmlParser::feed(std::string_view chunk) {
  if (impl_->state == State::failed) return;
  impl_->buf.append(chunk);
  impl_->run(false);
}

void DsmlParser::finish() {
  if (impl_->state == State::failed) return;
  impl_->finish();
}

DsmlRegion DsmlParser::region() const {
  switch (impl_->state) {
    case State::reasoning: return DsmlRegion::reasoning;
    case State::content: return DsmlRegion::content;
    case State::param_value: return DsmlRegion::parameter_value;
    case State::after_eos:
    case State::failed: return DsmlRegion::done;
    default: return DsmlRegion::markup;
  }
}

const std::vector<DsmlIssue>& DsmlParser::issues() const { return impl_->issues; }
bool DsmlParser::truncated() const { return impl_->truncated; }
bool DsmlParser::saw_eos() const { return impl_->saw_eos; }

void ParsedMessageBuilder::operator()(const DsmlEvent& e) {
  switch (e.kind) {
    case DsmlEventKind::reasoning: message_.reasoning += e.text; break;
    case DsmlEventKind::content: message_.content += e.text; break;
    case DsmlEventKind::call_begin: message_.tool_calls.push_back({std::string(e.text), {}, {}}); break;
    case DsmlEventKind::parameter:
      message_.tool_calls.back().parameters.push_back({std::string(e.name), std::string(e.text), e.is_string});
      break;
    case DsmlEventKind::call_end: message_.tool_calls.back().error = e.error; break;
  }
}

ParsedMessage ParsedMessageBuilder::result(const DsmlParser& parser) const {
  ParsedMessage m = message_;
  m.issues = parser.issues();
  m.truncated = parser.truncated();
  m.saw_eos = parser.saw_eos();
  return m;
}

ParsedMessage parse_completion(std::string_view text, DsmlOptions options) {
  ParsedMessageBuilder builder;
  DsmlParser parser(options, [&](const DsmlEvent& e) { builder(e); });
  parser.feed(text);
  parser.finish();
  return builder.result(parser);
}

std::string reference_arguments(const ParsedToolCall& call) {
  std::string out = "{";
  for (size_t i = 0; i < call.parameters.size(); ++i) {
    const auto& p = call.parameters[i];
    if (i) out += ", ";
    out += python_json(nlohmann::ordered_json(p.name)) + ": ";
    out += p.is_string ? python_json(nlohmann::ordered_json(p.value)) : p.value;
  }
  return out + "}";
}

}  // namespace dsv4::engine
