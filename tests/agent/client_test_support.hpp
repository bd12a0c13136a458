#pragma once
// What the model-client tests share: a configuration that retries fast against a loopback
// server, and a sink that keeps the notices a client reports.
#include <chrono>
#include <string>
#include <vector>

#include "agent/remote_model.hpp"

namespace dsv4::test {

// Retries after 1-5 ms instead of seconds, at most `attempts` times per model.
inline agent::RemoteConfig fast_retry_config(std::string base_url, std::string api_key,
                                             int attempts = 3) {
  agent::RemoteConfig c;
  c.base_url = std::move(base_url);
  c.api_key = std::move(api_key);
  c.backoff_base = std::chrono::milliseconds{1};
  c.backoff_cap = std::chrono::milliseconds{5};
  c.max_attempts = attempts;
  return c;
}

// The notices a client reported while it answered, in order.
struct Notices {
  std::vector<std::string> texts;
  agent::EventSink sink() {
    texts.clear();
    return [this](const agent::StreamEvent& e) {
      if (e.kind == agent::StreamEventKind::notice) texts.push_back(e.text);
    };
  }
};

}  // namespace dsv4::test
