#pragma once
// Background commands in one process-wide table, so that a long-lived process (the MCP
// server, the agent) can start a command now and look at it later. Thread-safe. Jobs
// still running when the process exits are ended with their whole process group.
#include <optional>
#include <string>

#include "tools/output_buffer.hpp"
#include "tools/process.hpp"

namespace dsv4::tools {

struct JobSnapshot {
  int id = 0;
  std::string command;
  bool running = true;
  ProcessEnd end;     // when not running
  std::string error;  // when it could not be started
  double seconds = 0;
  RenderedOutput output;
  uint64_t output_bytes = 0;  // all output so far: the `since` that asks for only newer
};

namespace jobs {

inline constexpr int kMaxRunning = 16;

// Starts `spec` on its own thread; returns the job id. Throws std::runtime_error when
// kMaxRunning jobs are already running.
int start(ProcessSpec spec, std::string command);
// The job's state and its output from byte `since` on (head and tail bounded). Throws
// std::out_of_range for an unknown job or a `since` beyond the output.
JobSnapshot status(int id, uint64_t since);
// Ends the job's process group and waits (a few seconds at most) for it to end.
JobSnapshot kill(int id);

}  // namespace jobs
}  // namespace dsv4::tools
