#include "agent/bench_agent.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/loop.hpp"
#include "sandbox/workspace.hpp"
#include "tools/process.hpp"

namespace dsv4::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr const char* kUsage =
    "usage: dsv4 bench agent [--steps N] [--runs N]\n"
    "Runs the loop for N steps (default 200) against an instant in-process model whose every\n"
    "turn reads a small file, and reports the loop's own time per step (model and tool time\n"
    "taken out) next to the read_file call it dispatches; then starts `dsv4 --version` R\n"
    "times (default 20) next to /bin/true, and `dsv4 run` until its first request reaches a\n"
    "loopback server. Targets: < 5 ms per step, < 20 ms to --version.\n";

// Answers instantly: a read_file call per turn (a different range each time, so the loop
// breaker stays quiet), then the final answer.
class InstantModel : public ModelClient {
 public:
  explicit InstantModel(int steps) : steps_(steps) {}
  ChatResponse complete(const ChatRequest&, const EventSink&) override {
    auto start = Clock::now();
    ChatResponse r;
    r.message.role = Role::assistant;
    r.message.reasoning_content = "thinking";
    if (++turn_ < steps_)
      r.message.tool_calls.push_back({"call_" + std::to_string(turn_), "read_file",
                                      R"({"path": "f.txt", "offset": )" +
                                          std::to_string(turn_ % 90 + 1) + R"(, "limit": 5})"});
    else
      r.message.content = "done";
    r.usage = {1000, 900, 100, 20};
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    return r;
  }
  double seconds = 0;

 private:
  int steps_;
  int turn_ = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double spawn_ms(const std::vector<std::string>& argv) {
  tools::ProcessSpec spec;
  spec.argv = argv;
  spec.cwd = std::filesystem::current_path();
  for (char** e = environ; *e; ++e) spec.env.emplace_back(*e);
  auto start = Clock::now();
  tools::run_process(spec, {}, [](std::string_view) {});
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Milliseconds from starting `dsv4 run` until its first request has reached a listener on
// 127.0.0.1; the listener then hangs up, which ends that run (one attempt allowed).
double run_to_first_request_ms(const std::string& self, const std::filesystem::path& dir) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1 for the start-up measurement");
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto start = Clock::now();
  std::thread run([&] {
    spawn_ms({self, "run", "bench", "--base-url", url, "--max-attempts", "1", "--root",
              dir.string(), "--session", (dir / "bench-session.jsonl").string(), "--approve",
              "read-only"});
  });
  double ms = -1;
  if (int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); client >= 0) {
    std::string head;
    char buffer[4096];
    ssize_t n;
    while (head.find("\r\n\r\n") == std::string::npos &&
           (n = ::recv(client, buffer, sizeof buffer, 0)) > 0)
      head.append(buffer, static_cast<size_t>(n));
    ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    ::close(client);
  }
  run.join();
  ::close(listener);
  return ms;
}

}  // namespace

int bench_agent_command(const std::vector<std::string>& args) {
  int steps = 200, runs = 20;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if ((args[i] == "--steps" || args[i] == "--runs") && i + 1 < args.size()) {
      int n = std::atoi(args[i + 1].c_str());
      if (n < 2) {
        std::cerr << "dsv4 bench agent: " << args[i] << " needs a number of at least 2\n";
        return 2;
      }
      (args[i] == "--steps" ? steps : runs) = n;
      ++i;
      continue;
    }
    std::cerr << "dsv4 bench agent: unknown argument '" << args[i] << "'\n" << kUsage;
    return 2;
  }

  auto dir =
      std::filesystem::temp_directory_path() / ("dsv4-bench-agent-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "f.txt");
    for (int i = 1; i <= 100; ++i) f << "line " << i << " of a small file\n";
  }
  double tool_seconds = 0;
  int tool_count = 0;
  InstantModel model(steps);
  sandbox::Workspace workspace(dir);
  LoopOptions options;
  options.max_steps = steps + 1;
  AgentLoop loop(model, workspace, options, nullptr, [&](const Json& e) {
    if (e.value("type", "") == "tool") {
      tool_seconds += e.value("seconds", 0.0);
      ++tool_count;
    }
  });
  std::vector<Message> history = {system_message(system_prompt()), user_message("bench")};
  auto start = Clock::now();
  LoopResult result = loop.run(history);
  double total = std::chrono::duration<double>(Clock::now() - start).count();
  if (result.status != RunStatus::done || tool_count != steps - 1) {
    std::filesystem::remove_all(dir);
    std::cerr << "dsv4 bench agent: the loop did not run as scripted ("
              << status_name(result.status) << ")\n";
    return 1;
  }
  double overhead_ms = (total - tool_seconds - model.seconds) * 1000 / steps;
  double tool_ms = tool_seconds * 1000 / tool_count;
  std::printf(
      "loop: %d steps, %.3f ms per step of loop overhead (target < 5 ms), "
      "%.3f ms per read_file call; ratio overhead/tool call: %.2f\n",
      steps, overhead_ms, tool_ms, overhead_ms / tool_ms);

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<double> ours, peer;
  for (int i = 0; i < runs; ++i) {
    ours.push_back(spawn_ms({self, "--version"}));
    peer.push_back(spawn_ms({"/bin/true"}));
  }
  std::printf(
      "start-up: dsv4 --version %.2f ms median (target < 20 ms), /bin/true %.2f ms; "
      "ratio: %.2f\n",
      median(ours), median(peer), median(ours) / median(peer));
  std::vector<double> first_request;
  for (int i = 0; i < std::max(3, runs / 4); ++i)
    first_request.push_back(run_to_first_request_ms(self, dir));
  std::filesystem::remove_all(dir);
  std::printf("start-up: dsv4 run to its first request %.2f ms median, %.2f x /bin/true\n",
              median(first_request), median(first_request) / median(peer));
  return 0;
}

}  // namespace dsv4::agent
