#include "engine/encoding_cli.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

#include "engine/dsml_arguments.hpp"
#include "engine/dsml_parser.hpp"
#include "engine/encoding.hpp"

namespace dsv4::engine {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kEncodeUsage =
    "usage: dsv4 encode --messages FILE [--context FILE] [--mode chat|thinking]\n"
    "                   [--effort low|high|max] [--keep-reasoning] [--no-bos]\n"
    "       dsv4 encode --request FILE\n"
    "Renders a conversation (a JSON array of OpenAI-style messages) into the DeepSeek-V4\n"
    "prompt and prints it exactly, with no newline added. --request takes one object\n"
    "{messages, thinking_mode, context, drop_thinking, add_default_bos_token,\n"
    "reasoning_effort} (or a golden case holding it under \"input\"). FILE '-' is stdin.\n"
    "Defaults: --mode thinking, --effort low, reasoning of earlier turns dropped, BOS added.\n";

constexpr const char* kParseUsage =
    "usage: dsv4 parse --input FILE [--tolerant] [--events] [--chunk N]\n"
    "Parses a completion {text, thinking_mode} (or a golden case holding it under \"input\")\n"
    "into the assistant message {role, content, reasoning_content, tool_calls}, as the\n"
    "official parser does; its errors go to stderr with exit code 1.\n"
    "  --tolerant  accept what real models emit (ASCII bars, calls inside the reasoning,\n"
    "              stray tags, cut-off blocks); adds issues, truncated and per-call errors\n"
    "  --events    print the streaming events as JSON lines instead of the message\n"
    "  --chunk N   feed the text N bytes at a time (default: all at once)\n";

int usage_error(const char* command, const std::string& message) {
  std::cerr << "dsv4 " << command << ": " << message << "\n(see 'dsv4 " << command << " --help')\n";
  return 2;
}

std::string read_input(const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), {}};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "'; check that the file exists");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A golden case line holds the arguments under "input"; accept it as well.
Json read_object(const std::string& path) {
  Json v = Json::parse(read_input(path), nullptr, false);
  if (v.is_discarded() || !v.is_object()) throw std::runtime_error("'" + path + "' does not hold a JSON object");
  if (v.contains("input") && v["input"].is_object()) return v["input"];
  return v;
}

// Parses --name VALUE pairs and bare --flags; returns an error message or nothing.
struct Args {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  bool help = false;
};

std::optional<std::string> parse_args(const std::vector<std::string>& args, const std::vector<std::string>& with_value,
                                      const std::vector<std::string>& flags, Args& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
      if (i + 1 >= args.size()) return a + " needs a value";
      out.values[a] = args[++i];
    } else if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
      out.flags[a] = true;
    } else {
      return "unexpected argument '" + a + "'";
    }
  }
  return std::nullopt;
}

std::string value_or(const Args& a, const std::string& key, const std::string& fallback) {
  auto it = a.values.find(key);
  return it == a.values.end() ? fallback : it->second;
}

Json event_json(const DsmlEvent& e) {
  static constexpr const char* kNames[] = {"reasoning", "content", "call_begin", "parameter", "call_end"};
  Json j = {{"event", kNames[static_cast<int>(e.kind)]}};
  switch (e.kind) {
    case DsmlEventKind::call_begin: j["name"] = e.text; break;
    case DsmlEventKind::parameter:
      j["name"] = e.name;
      j["value"] = e.text;
      j["string"] = e.is_string;
      break;
    case DsmlEventKind::call_end:
      if (!e.error.empty()) j["error"] = e.error;
      break;
    default: j["text"] = e.text; break;
  }
  return j;
}

Json message_json(const ParsedMessage& m, bool tolerant) {
  Json calls = Json::array();
  for (const auto& c : m.tool_calls) {
    Json call = {{"type", "function"}, {"function", {{"name", c.name}, {"arguments", reference_arguments(c)}}}};
    if (tolerant) {
      DecodedArguments decoded = decode_arguments(c);
      if (decoded.error.empty()) {
        call["function"]["arguments"] = decoded.json;
        if (!decoded.repairs.empty()) call["repairs"] = decoded.repairs;
      } else {
        call["error"] = decoded.error;
      }
    }
    calls.push_back(std::move(call));
  }
  Json out = {{"role", "assistant"}, {"content", m.content}, {"reasoning_content", m.reasoning}, {"tool_calls", calls}};
  if (tolerant) {
    Json issues = Json::array();
    for (const auto& i : m.issues) issues.push_back({{"offset", i.offset}, {"message", i.message}});
    out["issues"] = std::move(issues);
    out["truncated"] = m.truncated;
  }
  return out;
}

std::string dump(const Json& j, int indent = -1) { return j.dump(indent, ' ', false, Json::error_handler_t::replace); }

}  // namespace

int encode_command(const std::vector<std::string>& args) {
  Args a;
  if (auto err = parse_args(args, {"--messages", "--context", "--mode", "--effort", "--request"},
                            {"--keep-reasoning", "--no-bos"}, a))
    return usage_error("encode", *err);
  if (a.help) {
    std::cout << kEncodeUsage;
    return 0;
  }
  bool has_request = a.values.count("--request"), has_messages = a.values.count("--messages");
  if (has_request == has_messages) return usage_error("encode", "give either --messages FILE or --request FILE");
  std::string prompt;
  if (has_request) {
    if (a.values.size() > 1 || !a.flags.empty())
      return usage_error("encode", "--request carries every setting; give no other option");
    prompt = encode_request_json(dump(read_object(a.values["--request"])));
  } else {
    EncodeOptions options;
    try {
      options.mode = thinking_mode_from_name(value_or(a, "--mode", "thinking"));
      options.effort = reasoning_effort_from_name(value_or(a, "--effort", "low"));
    } catch (const std::invalid_argument& e) {
      return usage_error("encode", e.what());
    }
    options.drop_thinking = !a.flags.count("--keep-reasoning");
    options.add_bos = !a.flags.count("--no-bos");
    std::vector<Message> context;
    if (a.values.count("--context")) context = messages_from_json(read_input(a.values["--context"]));
    prompt = encode_messages(messages_from_json(read_input(a.values["--messages"])), options, context);
  }
  std::cout << prompt << std::flush;
  return 0;
}

int parse_command(const std::vector<std::string>& args) {
  Args a;
  if (auto err = parse_args(args, {"--input", "--chunk"}, {"--tolerant", "--events"}, a))
    return usage_error("parse", *err);
  if (a.help) {
    std::cout << kParseUsage;
    return 0;
  }
  if (!a.values.count("--input")) return usage_error("parse", "--input FILE is required");
  size_t chunk = 0;
  if (a.values.count("--chunk")) {
    try {
      chunk = std::stoul(a.values["--chunk"]);
    } catch (const std::exception&) {
    }
    if (chunk == 0) return usage_error("parse", "--chunk needs a positive number of bytes");
  }
  Json input = read_object(a.values["--input"]);
  if (!input.contains("text") || !input["text"].is_string())
    throw std::runtime_error("the input object needs a string \"text\"");
  std::string text = input["text"];
  DsmlOptions options;
  options.thinking = input.contains("thinking_mode") && input["thinking_mode"] == "thinking";
  options.strict = !a.flags.count("--tolerant");
  bool events = a.flags.count("--events");

  ParsedMessageBuilder builder;
  DsmlParser parser(options, [&](const DsmlEvent& e) {
    if (events) std::cout << dump(event_json(e)) << "\n";
    builder(e);
  });
  try {
    if (chunk == 0) chunk = std::max<size_t>(text.size(), 1);
    for (size_t at = 0; at < text.size(); at += chunk) parser.feed(std::string_view(text).substr(at, chunk));
    parser.finish();
  } catch (const DsmlError& e) {
    std::cerr << "dsv4 parse: " << (e.kind() == DsmlError::Kind::format ? "format" : "structure")
              << " error: " << e.what() << "\n";
    return 1;
  }
  if (events) return 0;
  std::cout << dump(message_json(builder.result(parser), !options.strict), 2) << "\n";
  return 0;
}

}  // namespace dsv4::engine
