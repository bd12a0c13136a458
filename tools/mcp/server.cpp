#include "tools/mcp/server.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "sandbox/workspace.hpp"
#include "tools/mcp/line_channel.hpp"
#include "tools/registry.hpp"

namespace dsv4::tools::mcp {
namespace {

using nlohmann::json;

constexpr std::string_view kServerName = "dsv4";
constexpr std::string_view kServerVersion = "0.1.0";
// 2026-07-28 is the stateless ("modern") revision: no handshake, every request names
// its version in _meta. The others need `initialize` first.
constexpr std::string_view kModernVersion = "2026-07-28";
const std::array<std::string_view, 4> kLegacyVersions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                         "2024-11-05"};
constexpr const char* kMetaVersion = "io.modelcontextprotocol/protocolVersion";
constexpr const char* kMetaLogLevel = "io.modelcontextprotocol/logLevel";
constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
constexpr size_t kMaxNesting = 256;

enum Code : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kServerBusy = -32000,
  kUnsupportedVersion = -32022,
};

struct RpcError {
  int code;
  std::string message;
  json data = nullptr;
};

constexpr std::array<std::string_view, 8> kLogLevels = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

int log_rank(std::string_view level) {
  for (size_t i = 0; i < kLogLevels.size(); ++i)
    if (kLogLevels[i] == level) return static_cast<int>(i);
  return -1;
}

// Deep nesting is refused before parsing: the parse tree would be a stack hazard.
bool nests_too_deep(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// file:///a%20b → /a b; anything but a local file URI gives "".
std::string path_of_file_uri(const std::string& uri) {
  constexpr std::string_view scheme = "file://";
  if (!uri.starts_with(scheme)) return "";
  std::string rest = uri.substr(scheme.size());
  if (rest.starts_with("localhost/")) rest = rest.substr(9);
  if (!rest.starts_with("/")) return "";
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hex_value(rest[i + 1]) >= 0 &&
        hex_value(rest[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2])));
      i += 2;
    } else {
      out.push_back(rest[i]);
    }
  }
  return out;
}

json tool_descriptor(const Tool& tool) {
  json d{{"name", tool.name},
         {"title", tool.name},
         {"description", std::string(tool_description(tool))},
         {"inputSchema", json::parse(tool.schema)},
         {"annotations",
          {{"readOnlyHint", tool.traits.read_only},
           {"destructiveHint", tool.traits.destructive},
           {"idempotentHint", tool.traits.idempotent},
           {"openWorldHint", tool.traits.open_world}}}};
  if (!tool.output_schema.empty()) d["outputSchema"] = json::parse(tool.output_schema);
  return d;
}

// A tool's JSON result as MCP's CallToolResult: text for the model, the object for
// programs, and isError for failures the model should see and correct. A failure carries
// no structuredContent: clients check that against the tool's outputSchema.
json call_result(const json& result) {
  if (!result.value("ok", false)) {
    std::string text = result.value("error", std::string("the tool failed"));
    return json{{"content", json::array({{{"type", "text"}, {"text", text}}})}, {"isError", true}};
  }
  std::string text = result.dump(2, ' ', false, json::error_handler_t::replace);
  return json{{"content", json::array({{{"type", "text"}, {"text", text}}})},
              {"structuredContent", result},
              {"isError", false}};
}

class Server {
 public:
  Server(const Options& options, int out_fd) : options_(options), out_(out_fd) {
    for (const Tool& t : all_tools()) {
      if (options_.read_only && !t.traits.read_only) continue;
      if (!options_.only_tools.empty() &&
          std::find(options_.only_tools.begin(), options_.only_tools.end(), t.name) ==
              options_.only_tools.end())
        continue;
      offered_.push_back(&t);
    }
    workspace_ = open_workspace(options_.root);
  }

  void handle(const LineReader::Line& line) {
    if (line.too_long) {
      send_error(nullptr, {kParseError, "message larger than " +
                                            std::to_string(options_.max_message_bytes) +
                                            " bytes was dropped"});
      return;
    }
    if (nests_too_deep(line.text)) {
      send_error(nullptr, {kParseError, "message nests deeper than " +
                                            std::to_string(kMaxNesting) + " levels"});
      return;
    }
    json msg = json::parse(line.text, nullptr, false);
    if (msg.is_discarded()) {
      send_error(nullptr, {kParseError, "not valid JSON (or not UTF-8)"});
      return;
    }
    if (msg.is_array()) {
      send_error(nullptr, {kInvalidRequest, "JSON-RPC batches are not supported by MCP"});
      return;
    }
    handle_message(msg);
  }

  // Lets calls in flight end (cancelling them after a grace period) before returning.
  void finish() {
    std::unique_lock lock(mutex_);
    if (!idle_.wait_for(lock, std::chrono::seconds(2), [&] { return in_flight_ == 0; })) {
      for (auto& [_, call] : calls_) call->stop.request_stop();
      idle_.wait(lock, [&] { return in_flight_ == 0; });
    }
  }

 private:
  struct Call {
    std::stop_source stop;
    bool cancelled = false;
  };

  void handle_message(const json& msg) {
    const json id = msg.contains("id") ? msg["id"] : json();
    if (!msg.is_object() || msg.value("jsonrpc", "") != "2.0") {
      send_error(valid_id(id) ? id : json(), {kInvalidRequest, "not a JSON-RPC 2.0 message"});
      return;
    }
    if (!msg.contains("method")) {
      if (msg.contains("result") || msg.contains("error")) return handle_response(msg);
      send_error(valid_id(id) ? id : json(), {kInvalidRequest, "message has no method"});
      return;
    }
    if (!msg["method"].is_string()) {
      send_error(valid_id(id) ? id : json(), {kInvalidRequest, "'method' must be a string"});
      return;
    }
    const std::string method = msg["method"];
    const json params = msg.value("params", json::object());
    if (!msg.contains("id")) return handle_notification(method, params);
    if (!valid_id(id)) {
      send_error(json(), {kInvalidRequest, "'id' must be a string or an integer"});
      return;
    }
    if (!params.is_object()) {
      send_error(id, {kInvalidParams, "'params' must be an object"});
      return;
    }
    handle_request(id, method, params);
  }

  static bool valid_id(const json& id) { return id.is_string() || id.is_number_integer(); }

  void handle_request(const json& id, const std::string& method, const json& params) {
    const json* meta = params.contains("_meta") && params["_meta"].is_object() ? &params["_meta"] : nullptr;
    const bool modern = meta && meta->contains(kMetaVersion);
    if (modern) {
      const json& version = (*meta)[kMetaVersion];
      if (!version.is_string() || version.get<std::string>() != kModernVersion) {
        send_error(id, {kUnsupportedVersion,
                        "Unsupported protocol version: " + version.dump(),
                        {{"supported", supported_versions()}, {"requested", version}}});
        return;
      }
    }
    try {
      if (method == "initialize") {
        reply(id, initialize(params), false);
      } else if (method == "server/discover") {
        reply(id, discover(), true);
      } else if (method == "ping") {
        reply(id, json::object(), modern);
      } else if (!modern && !initialized()) {
        throw RpcError{kInvalidRequest,
                       "not initialized: send 'initialize' first, or name protocol version " +
                           std::string(kModernVersion) + " in params._meta"};
      } else if (method == "tools/list") {
        reply(id, list_tools(params, modern), modern);
      } else if (method == "tools/call") {
        start_call(id, params, modern);
      } else if (method == "logging/setLevel" && !modern) {
        set_log_level(params);
        reply(id, json::object(), false);
      } else {
        throw RpcError{kMethodNotFound, "method '" + method + "' is not offered by dsv4"};
      }
    } catch (const RpcError& e) {
      send_error(id, e);
    } catch (const std::exception& e) {
      send_error(id, {kInternalError, e.what()});
    }
  }

  void handle_notification(const std::string& method, const json& params) {
    if (method == "notifications/initialized") {
      if (client_offers_roots()) request_roots();
    } else if (method == "notifications/roots/list_changed") {
      if (client_offers_roots()) request_roots();
    } else if (method == "notifications/cancelled") {
      if (!params.is_object() || !params.contains("requestId")) return;
      std::lock_guard lock(mutex_);
      if (auto it = calls_.find(params["requestId"].dump()); it != calls_.end()) {
        it->second->cancelled = true;
        it->second->stop.request_stop();
        slots_.notify_all();
      }
    }
    // Other notifications need no action; unknown ones are ignored as the spec asks.
  }

  void handle_response(const json& msg) {
    const json id = msg.value("id", json());
    {
      std::lock_guard lock(mutex_);
      if (!pending_roots_.erase(id.dump())) return;
    }
    if (msg.contains("error")) {
      log("warning", "the client refused roots/list: " + msg["error"].dump());
      return;
    }
    apply_roots(msg["result"]);
  }

  json initialize(const json& params) {
    std::string requested = params.value("protocolVersion", "");
    std::string chosen(kLegacyVersions.front());
    for (auto v : kLegacyVersions)
      if (v == requested) chosen = requested;
    {
      std::lock_guard lock(mutex_);
      initialized_ = true;
      client_capabilities_ = params.value("capabilities", json::object());
    }
    return json{{"protocolVersion", chosen},
                {"capabilities", capabilities()},
                {"serverInfo", server_info()},
                {"instructions", instructions()}};
  }

  json discover() {
    return json{{"supportedVersions", supported_versions()},
                {"capabilities", capabilities()},
                {"serverInfo", server_info()},
                {"instructions", instructions()},
                {"ttlMs", 3600000},
                {"cacheScope", "private"}};
  }

  static json supported_versions() {
    json v = json::array({kModernVersion});
    for (auto l : kLegacyVersions) v.push_back(l);
    return v;
  }
  static json capabilities() { return {{"tools", {{"listChanged", false}}}, {"logging", json::object()}}; }
  static json server_info() { return {{"name", kServerName}, {"version", kServerVersion}}; }
  std::string instructions() const {
    return "dsv4's workspace tools (files, git, shell, code search) confined to " +
           workspace()->root().string() + ". Paths are relative to that folder.";
  }

  json list_tools(const json& params, bool modern) {
    size_t start = 0;
    if (params.contains("cursor")) {
      const json& c = params["cursor"];
      if (!c.is_string() || !c.get<std::string>().starts_with("tools:"))
        throw RpcError{kInvalidParams, "invalid cursor " + c.dump() + "; use the nextCursor of the previous page"};
      try {
        start = std::stoul(c.get<std::string>().substr(6));
      } catch (const std::exception&) {
        throw RpcError{kInvalidParams, "invalid cursor " + c.dump()};
      }
      if (start > offered_.size()) throw RpcError{kInvalidParams, "cursor " + c.dump() + " is past the end"};
    }
    json tools = json::array();
    size_t end = std::min(offered_.size(), start + options_.page_size);
    for (size_t i = start; i < end; ++i) tools.push_back(tool_descriptor(*offered_[i]));
    json result{{"tools", tools}};
    if (end < offered_.size()) result["nextCursor"] = "tools:" + std::to_string(end);
    if (modern) {
      result["ttlMs"] = 3600000;
      result["cacheScope"] = "private";
    }
    return result;
  }

  void start_call(const json& id, const json& params, bool modern) {
    if (!params.contains("name") || !params["name"].is_string())
      throw RpcError{kInvalidParams, "tools/call needs 'name', a string"};
    const std::string name = params["name"];
    const Tool* tool = nullptr;
    for (const Tool* t : offered_)
      if (t->name == name) tool = t;
    if (!tool) throw RpcError{kInvalidParams, "Unknown tool: '" + name + "'; tools/list names the offered tools"};
    json args = params.value("arguments", json::object());
    if (!args.is_object()) throw RpcError{kInvalidParams, "'arguments' must be an object"};
    json progress_token;
    int log_threshold = -2;  // the session's level applies
    if (params.contains("_meta") && params["_meta"].is_object()) {
      progress_token = params["_meta"].value("progressToken", json());
      if (modern) log_threshold = log_rank(params["_meta"].value(kMetaLogLevel, ""));
    }

    auto call = std::make_shared<Call>();
    {
      std::lock_guard lock(mutex_);
      if (in_flight_ >= options_.max_running_calls + options_.max_queued_calls)
        throw RpcError{kServerBusy, "server busy: " + std::to_string(in_flight_) +
                                        " calls in flight; retry when some have finished"};
      if (calls_.contains(id.dump()))
        throw RpcError{kInvalidRequest, "a request with id " + id.dump() + " is still running"};
      calls_[id.dump()] = call;
      ++in_flight_;
    }
    std::thread([this, id, tool, args = std::move(args), progress_token, modern, call, log_threshold] {
      run_call(id, *tool, args, progress_token, modern, *call, log_threshold);
      std::lock_guard lock(mutex_);
      calls_.erase(id.dump());
      --in_flight_;
      idle_.notify_all();
    }).detach();
  }

  void run_call(const json& id, const Tool& tool, const json& args, const json& progress_token,
                bool modern, Call& call, int log_threshold) {
    {
      std::unique_lock lock(mutex_);
      slots_.wait(lock, [&] { return running_ < options_.max_running_calls || call.cancelled; });
      if (call.cancelled) return;
      ++running_;
    }
    auto workspace = this->workspace();
    ToolContext ctx{*workspace, call.stop.get_token()};
    if (!progress_token.is_null()) {
      ctx.progress = [this, progress_token](double done, double total, std::string_view message) {
        json p{{"progressToken", progress_token}, {"progress", done}};
        if (total > 0) p["total"] = total;
        if (!message.empty()) p["message"] = std::string(message);
        send({{"jsonrpc", "2.0"}, {"method", "notifications/progress"}, {"params", p}});
      };
    }
    json result = call_tool(tool, args, ctx);
    if (!result.value("ok", false))
      log("info", std::string(tool.name) + " failed: " + result.value("error", ""), log_threshold);
    {
      std::lock_guard lock(mutex_);
      --running_;
      slots_.notify_one();
      if (call.cancelled) return;  // the client has stopped waiting for an answer
    }
    reply(id, call_result(result), modern);
  }

  void set_log_level(const json& params) {
    std::string level = params.value("level", "");
    int rank = log_rank(level);
    if (rank < 0)
      throw RpcError{kInvalidParams, "unknown log level '" + level + "'; use one of debug, info, "
                                     "notice, warning, error, critical, alert, emergency"};
    std::lock_guard lock(mutex_);
    log_threshold_ = rank;
  }

  // Always to stderr; to the client as notifications/message when it asked for the level.
  void log(std::string_view level, const std::string& text, int threshold = -2) {
    std::cerr << "dsv4 mcp: " << level << ": " << text << "\n";
    if (threshold == -2) {
      std::lock_guard lock(mutex_);
      threshold = log_threshold_;
    }
    if (threshold < 0 || log_rank(level) < threshold) return;
    send({{"jsonrpc", "2.0"},
          {"method", "notifications/message"},
          {"params", {{"level", level}, {"logger", "dsv4"}, {"data", text}}}});
  }

  bool client_offers_roots() {
    std::lock_guard lock(mutex_);
    return client_capabilities_.contains("roots");
  }

  void request_roots() {
    std::string id = "dsv4-roots-" + std::to_string(next_request_id_++);
    {
      std::lock_guard lock(mutex_);
      pending_roots_.insert(json(id).dump());
    }
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", "roots/list"}, {"params", json::object()}});
  }

  void apply_roots(const json& result) {
    if (!result.is_object() || !result.contains("roots") || !result["roots"].is_array()) {
      log("warning", "roots/list answer has no 'roots' array; keeping " + workspace()->root().string());
      return;
    }
    for (const json& root : result["roots"]) {
      std::string path = root.is_object() ? path_of_file_uri(root.value("uri", "")) : "";
      if (path.empty()) continue;
      try {
        auto ws = open_workspace(path);
        if (result["roots"].size() > 1)
          log("notice", "the client offered several roots; tools work in the first usable one, " + path);
        std::lock_guard lock(mutex_);
        workspace_ = std::move(ws);
        return;
      } catch (const std::exception& e) {
        log("warning", "root " + root.dump() + " is unusable: " + e.what());
      }
    }
    log("warning", "no usable file:// root offered; keeping " + workspace()->root().string());
  }

  std::shared_ptr<const sandbox::Workspace> open_workspace(const std::filesystem::path& root) const {
    auto policy = sandbox::load_policy(root, options_.sandbox_flags);
    if (auto warning = sandbox::policy_warning(policy); !warning.empty())
      std::cerr << "dsv4 mcp: " << warning << "\n";
    return std::make_shared<const sandbox::Workspace>(root, policy);
  }

  std::shared_ptr<const sandbox::Workspace> workspace() const {
    std::lock_guard lock(mutex_);
    return workspace_;
  }

  bool initialized() {
    std::lock_guard lock(mutex_);
    return initialized_;
  }

  void reply(const json& id, json result, bool modern) {
    if (modern) {
      result["resultType"] = "complete";
      result["_meta"][kMetaServerInfo] = server_info();
    }
    send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
  }

  void send_error(const json& id, const RpcError& e) {
    json error{{"code", e.code}, {"message", e.message}};
    if (!e.data.is_null()) error["data"] = e.data;
    send({{"jsonrpc", "2.0"}, {"id", id}, {"error", error}});
  }

  void send(const json& msg) { out_.write(msg.dump(-1, ' ', false, json::error_handler_t::replace)); }

  Options options_;
  LineWriter out_;
  std::vector<const Tool*> offered_;
  mutable std::mutex mutex_;
  std::condition_variable idle_, slots_;
  std::shared_ptr<const sandbox::Workspace> workspace_;
  bool initialized_ = false;
  json client_capabilities_ = json::object();
  int log_threshold_ = -1;  // no log notifications until the client sets a level
  std::map<std::string, std::shared_ptr<Call>> calls_;
  size_t in_flight_ = 0, running_ = 0;
  std::atomic<long> next_request_id_ = 1;
  std::set<std::string> pending_roots_;
};

}  // namespace

int serve(const Options& options, int in_fd, int out_fd) {
  Server server(options, out_fd);
  LineReader reader(in_fd, options.max_message_bytes);
  while (auto line = reader.next()) server.handle(*line);
  server.finish();
  return 0;
}

}  // namespace dsv4::tools::mcp
