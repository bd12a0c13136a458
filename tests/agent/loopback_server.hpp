#pragma once
// The HTTP/1.1 plumbing of the scripted model servers of the agent tests: listens on
// 127.0.0.1, reads each request, asks the handler for the reply, sends it (a JSON body,
// server-sent events, or a stream cut off mid-event) and records the exchange.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dsv4::test {

struct ScriptedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;              // the whole body (JSON answers and errors)
  std::vector<std::string> sse;  // when non-empty: the data of each server-sent event
  bool named_events = false;     // each event also gets an "event:" line, its data's "type"
  bool cut = false;              // close the connection after half of the events
};

struct RecordedRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json;  // the body parsed; null when it was not JSON
  int status = 0;       // what the server answered
};

// Splits text into pieces of at most n bytes (whole UTF-8 sequences), as servers stream it.
std::vector<std::string> pieces(const std::string& text, size_t n);

class LoopbackServer {
 public:
  // Called on the server's thread, one request at a time.
  using Handler = std::function<ScriptedReply(const RecordedRequest&)>;
  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::string base_url() const;  // http://127.0.0.1:PORT
  std::vector<RecordedRequest> requests() const;

 private:
  void serve();
  void handle(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

}  // namespace dsv4::test
