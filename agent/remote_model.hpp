#pragma once
// What the HTTP model clients (OpenAI-compatible, Anthropic) share: their configuration,
// the JSON POST they send, how a failed exchange is classified, and the loop that retries
// transient failures with backoff and Retry-After, then switches to the fallback model.
#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "agent/model_client.hpp"

namespace dsv4::agent {

struct HttpRequest;
struct HttpResponse;

struct RemoteConfig {
  std::string base_url;  // e.g. https://api.deepseek.com (each client adds its own path)
  std::string api_key;   // "" sends no key
  std::string api_key_name = "DEEPSEEK_API_KEY";  // named in the "check your API key" error
  std::string model = "deepseek-v4-flash";
  std::string fallback_model;  // used once the model's retries are spent; "" for none
  bool stream = true;
  int max_attempts = 5;  // per model, for 429/5xx/529/timeouts/dropped streams
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  std::chrono::milliseconds retry_after_cap{60000};  // longest Retry-After honoured
  std::chrono::seconds idle_timeout{120};
  const std::atomic<bool>* cancel = nullptr;  // set: stop waiting between attempts
};

// What one attempt came to.
struct Attempt {
  enum class Outcome { done, retry, repair, fail } outcome = Outcome::fail;
  ChatResponse response;
  std::string why;  // for retry notices and failures
  std::chrono::milliseconds retry_after{-1};
  ModelError::Kind kind = ModelError::Kind::protocol;
  int status = 0;
};

// A POST of `body` to base_url + `path` with the JSON headers and the config's timeouts;
// the caller adds its authentication headers.
HttpRequest json_post(const RemoteConfig& config, std::string_view path,
                      const nlohmann::json& body);

// The message inside an API error body (OpenAI's and Anthropic's {"error": {"message"}}
// alike, with the parameter when one is named), or the body itself.
std::string error_message(const std::string& body);

// Sends `http`: a streamed answer goes to `on_event` one server-sent event's data at a time,
// a plain one into `whole_body`.
HttpResponse post_for_events(const RemoteConfig& config, const HttpRequest& http,
                             const std::function<void(std::string_view)>& on_event,
                             std::string& whole_body);

// The attempt after a non-2xx or absent response: 401/403 (auth), 402 (balance), 422 and
// other 4xx fail at once; no response, 408, 429, 500-504 and 529 (overloaded) are retried.
// A 400 whose message contains `repair_marker` (when given) asks for Outcome::repair: the
// server wants reasoning sent back that the client left out.
Attempt failed_attempt(const HttpResponse& response, const std::string& api_key_name,
                       std::string_view repair_marker = {});

// The attempt after a 2xx response whose body the client has read: retried when the server
// reported `server_error` inside it, a piece was not JSON, or it ended before `finished`.
Attempt finished_attempt(const HttpResponse& response, const std::string& server_error,
                         bool bad_piece, bool finished);

// Runs `attempt` for the model until it is done or fails for good, waiting between tries
// (exponential backoff with jitter, at least Retry-After), then the same for the fallback
// model. Outcome::repair calls `repair` (which mends the request and returns the notice)
// once without spending an attempt. Notices and errors also go to `sink`. Throws ModelError.
using AttemptFn = std::function<Attempt(const std::string& model)>;
using RepairFn = std::function<std::string()>;
ChatResponse complete_with_retries(const RemoteConfig& config, const EventSink& sink,
                                   const AttemptFn& attempt, const RepairFn& repair = {});

}  // namespace dsv4::agent
