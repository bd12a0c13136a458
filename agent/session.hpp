#pragma once
// A session file: one JSON event per line (messages, usage per request, tool timings),
// appended as the run goes so that a crash loses at most the line being written, and
// loadable to resume the conversation exactly (reasoning_content byte for byte).
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent/messages.hpp"

namespace dsv4::agent {

class SessionWriter {
 public:
  // Opens (creating, appending to) `path`; throws std::runtime_error naming it on failure.
  explicit SessionWriter(std::filesystem::path path);
  ~SessionWriter();
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `event` as one line with one write(2) on an O_APPEND file, then fsyncs.
  void append(const nlohmann::json& event);
  void append_message(const Message& message);  // {"type":"message","message":{...}}

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

struct LoadedSession {
  std::vector<Message> messages;
  std::vector<nlohmann::json> events;  // every event, messages included, in order
  bool torn_tail = false;              // the last line was cut off (a crash) and skipped
};

// Reads a session file. A final line without its newline is skipped (torn_tail); any
// other malformed line throws std::runtime_error naming the file and line number.
LoadedSession load_session(const std::filesystem::path& path);

}  // namespace dsv4::agent
