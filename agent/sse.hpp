#pragma once
// Server-sent events: fed raw bytes as they arrive, hands over the data of each event.
#include <functional>
#include <string>
#include <string_view>

namespace dsv4::agent {

class SseParser {
 public:
  using Handler = std::function<void(std::string_view data)>;
  explicit SseParser(Handler handler) : handler_(std::move(handler)) {}

  void feed(std::string_view bytes);
  // True when a partial line or event is still buffered (a stream cut mid-event).
  bool pending() const { return !line_.empty() || !data_.empty(); }

 private:
  void line(std::string_view text);

  Handler handler_;
  std::string line_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace dsv4::agent
