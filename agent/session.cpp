#include "agent/session.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "agent/compaction.hpp"

namespace dsv4::agent {

using Json = nlohmann::json;

SessionWriter::SessionWriter(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot open session file " + path_.string() + ": " +
                             std::strerror(errno));
}

SessionWriter::~SessionWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void SessionWriter::append(const Json& event) {
  std::string line = event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  // One write per line: with O_APPEND, concurrent writers never interleave inside a line.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error("cannot write session file " + path_.string() + ": " +
                               std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  ::fsync(fd_);
}

void SessionWriter::append_message(const Message& message) {
  append(Json{{"type", "message"}, {"message", message_to_json(message)}});
}

LoadedSession load_session(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read session file " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  LoadedSession session;
  size_t start = 0, line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    ++line_no;
    if (end == std::string::npos) {
      session.torn_tail = true;
      break;
    }
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    Json event = Json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object())
      throw std::runtime_error(path.string() + ":" + std::to_string(line_no) +
                               ": not a JSON event object");
    try {
      const std::string type = event.value("type", "");
      if (type == "message")
        session.messages.push_back(message_from_json(event.at("message")));
      else if (type == "compaction")
        apply_compaction_event(session.messages, event);
    } catch (const std::exception& e) {
      throw std::runtime_error(path.string() + ":" + std::to_string(line_no) + ": " + e.what());
    }
    session.events.push_back(std::move(event));
  }
  return session;
}

}  // namespace dsv4::agent
