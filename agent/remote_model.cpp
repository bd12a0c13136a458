#include "agent/remote_model.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "agent/http.hpp"
#include "agent/sse.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

HttpRequest json_post(const RemoteConfig& config, std::string_view path, const Json& body) {
  HttpRequest http;
  std::string base = config.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http.url = base + std::string(path);
  // "Expect:" stops libcurl from waiting for a 100 Continue before sending large bodies.
  http.headers = {"Content-Type: application/json", "Expect:",
                  config.stream ? "Accept: text/event-stream" : "Accept: application/json"};
  http.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  http.idle_timeout = config.idle_timeout;
  http.cancel = config.cancel;
  return http;
}

std::string error_message(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      std::string message = e["message"].get<std::string>();
      if (e.contains("param") && e["param"].is_string())
        message += " (parameter: " + e["param"].get<std::string>() + ")";
      return message;
    }
  }
  if (j.is_object() && j.contains("detail")) return j["detail"].dump();  // FastAPI servers
  return body.empty() ? "(empty body)" : body;
}

namespace {

std::chrono::milliseconds parse_retry_after(const std::string& value) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0)
    return std::chrono::milliseconds{-1};  // HTTP dates are rare here; backoff decides
  return std::chrono::milliseconds{static_cast<long>(seconds * 1000)};
}

}  // namespace

HttpResponse post_for_events(const RemoteConfig& config, const HttpRequest& http,
                             const std::function<void(std::string_view)>& on_event,
                             std::string& whole_body) {
  SseParser sse(on_event);
  return http_post(http, [&](std::string_view bytes) {
    if (config.stream)
      sse.feed(bytes);
    else
      whole_body.append(bytes);
  });
}

Attempt failed_attempt(const HttpResponse& response, const std::string& api_key_name,
                       std::string_view repair_marker) {
  Attempt a;
  a.status = response.status;
  a.retry_after = parse_retry_after(response.retry_after);
  if (response.status == 0) {
    a.outcome = Attempt::Outcome::retry;
    a.why = "no response: " + response.error;
    return a;
  }
  const std::string message = error_message(response.body);
  const std::string status = "HTTP " + std::to_string(response.status);
  switch (response.status) {
    case 400:
      a.kind = ModelError::Kind::bad_request;
      a.why = status + " bad request: " + message;
      if (!repair_marker.empty() && message.find(repair_marker) != std::string::npos)
        a.outcome = Attempt::Outcome::repair;
      return a;
    case 401:
    case 403:
      a.kind = ModelError::Kind::auth;
      a.why = status + ": check your API key (" + api_key_name + "): " + message;
      return a;
    case 402:
      a.kind = ModelError::Kind::balance;
      a.why = status + ": insufficient balance on the account: " + message;
      return a;
    case 422:
      a.kind = ModelError::Kind::invalid_parameter;
      a.why = status + ": the server rejected a parameter: " + message;
      return a;
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 529:  // Anthropic's "overloaded"
      a.outcome = Attempt::Outcome::retry;
      a.why = status + ": " + message;
      return a;
    default:
      a.kind = ModelError::Kind::bad_request;
      a.why = status + ": " + message;
      return a;
  }
}

Attempt finished_attempt(const HttpResponse& response, const std::string& server_error,
                         bool bad_piece, bool finished) {
  Attempt a;
  a.status = response.status;
  a.outcome = Attempt::Outcome::retry;
  if (!server_error.empty())
    a.why = "the server reported an error mid-stream: " + server_error;
  else if (!finished)
    a.why = response.error.empty()
                ? (bad_piece ? "a piece of the response was not JSON" : "the stream ended early")
                : "the stream broke: " + response.error;
  else
    a.outcome = Attempt::Outcome::done;
  return a;
}

ChatResponse complete_with_retries(const RemoteConfig& config, const EventSink& sink,
                                   const AttemptFn& attempt_once, const RepairFn& repair) {
  auto notice = [&](const std::string& text) {
    if (sink) sink(text_event(StreamEventKind::notice, text));
  };
  // Every failure is reported as an event too, for front ends that only watch events.
  auto fail = [&](ModelError::Kind kind, int status, const std::string& why) {
    if (sink) sink(text_event(StreamEventKind::error, why));
    return ModelError(kind, status, why);
  };
  std::mt19937 rng{std::random_device{}()};
  bool repaired = false;
  std::vector<std::string> models = {config.model};
  if (!config.fallback_model.empty() && config.fallback_model != config.model)
    models.push_back(config.fallback_model);
  std::string last_why;
  auto cancelled = [&] { return config.cancel && config.cancel->load(); };
  for (size_t m = 0; m < models.size(); ++m) {
    if (m > 0) notice("switching to the fallback model " + models[m] + " after: " + last_why);
    for (int attempt = 1; attempt <= config.max_attempts;) {
      Attempt a = attempt_once(models[m]);
      if (cancelled()) throw fail(ModelError::Kind::unavailable, a.status, "interrupted");
      switch (a.outcome) {
        case Attempt::Outcome::done:
          return std::move(a.response);
        case Attempt::Outcome::repair:
          if (repaired || !repair) throw fail(a.kind, a.status, a.why);
          repaired = true;
          notice(repair());
          continue;  // a repair does not spend an attempt
        case Attempt::Outcome::fail:
          throw fail(a.kind, a.status, a.why);
        case Attempt::Outcome::retry:
          break;
      }
      last_why = a.why;
      if (attempt == config.max_attempts) break;
      auto backoff =
          std::min(config.backoff_cap, config.backoff_base * (1L << std::min(attempt - 1, 20)));
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      auto delay = std::chrono::milliseconds{static_cast<long>(backoff.count() * jitter(rng))};
      if (a.retry_after.count() >= 0)
        delay = std::max(delay, std::min(a.retry_after, config.retry_after_cap));
      notice(a.why + "; retrying in " + std::to_string(delay.count()) + " ms (attempt " +
             std::to_string(attempt + 1) + " of " + std::to_string(config.max_attempts) + ")");
      auto until = std::chrono::steady_clock::now() + delay;
      while (std::chrono::steady_clock::now() < until) {
        if (cancelled())
          throw fail(ModelError::Kind::unavailable, a.status, "interrupted while waiting to retry");
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            until - std::chrono::steady_clock::now(), std::chrono::milliseconds{50}));
      }
      ++attempt;
    }
  }
  throw fail(ModelError::Kind::unavailable, 0,
             "the model server stayed unavailable after " + std::to_string(config.max_attempts) +
                 " attempts per model: " + last_why);
}

}  // namespace dsv4::agent
