#pragma once
// The one way tools start processes: run an argv in a folder with a given environment,
// stdout and stderr merged in order into a sink, stdin closed, bounded by a timeout and a
// stop token. The command runs as the leader of its own session and process group, so
// that ending it ends everything it started there. The sandbox decides the argv (it may
// wrap it in an isolating launcher); this layer only runs it.
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::tools {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::filesystem::path cwd;
  std::vector<std::string> env;  // the child's whole environment, NAME=VALUE each
  std::optional<std::chrono::milliseconds> timeout;  // none: no limit
  // After the main process exits, how long what it left behind may keep the output
  // open before it is ended (a `server &` must not hold the call until the timeout).
  std::chrono::milliseconds linger{1000};
  // Between SIGTERM and SIGKILL when the group is ended.
  std::chrono::milliseconds kill_grace{2000};
};

struct ProcessEnd {
  int exit_code = -1;  // the main process's exit status when it exited
  int signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;
  bool stopped = false;  // the stop token ended it
  int leftovers = 0;     // processes still in its group after it exited, which were ended
  double seconds = 0;
};

// Receives output (stdout and stderr merged, in the order written) as it arrives.
using OutputSink = std::function<void(std::string_view)>;
// Called about once a second with the seconds elapsed.
using Tick = std::function<void(double)>;

// Runs the process to its end. Throws std::runtime_error when it cannot be started.
// The whole group is ended (SIGTERM, then SIGKILL after kill_grace) on timeout, on stop,
// and when the main process exits while others remain. A descendant that makes itself a
// new session escapes the group; only the sandbox's launcher can hold those.
ProcessEnd run_process(const ProcessSpec& spec, std::stop_token stop, const OutputSink& sink,
                       const Tick& tick = {});

// "SIGKILL" for SIGKILL, "signal 77" for what has no name.
std::string signal_name(int signal);

}  // namespace dsv4::tools
