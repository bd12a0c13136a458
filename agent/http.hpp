#pragma once
// One HTTP POST over libcurl, with the body streamed to a callback as it arrives.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::agent {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::seconds connect_timeout{15};
  // The stream is given up when no byte arrives for this long.
  std::chrono::seconds idle_timeout{120};
  const std::atomic<bool>* cancel = nullptr;  // set: the transfer is aborted
};

struct HttpResponse {
  int status = 0;           // 0 when no response came (connection failed, timed out)
  std::string error;        // transport failure, "" when the exchange completed
  std::string retry_after;  // the Retry-After header, "" when absent
  std::string body;         // the body of non-2xx responses (2xx bodies go to the sink)
};

// Sends the request; bytes of a 2xx body go to `on_body` as they arrive.
HttpResponse http_post(const HttpRequest& request,
                       const std::function<void(std::string_view)>& on_body);

}  // namespace dsv4::agent
