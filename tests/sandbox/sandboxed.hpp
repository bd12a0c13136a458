#pragma once
// Runs a bash script the way the shell tool does: through Workspace::command_argv and a
// real process (tests/main.cpp makes the built dsv4 binary the launcher).
#include <string>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"

namespace dsv4::test {

inline RunResult run_sandboxed(const sandbox::Workspace& ws, const std::string& script) {
  return run(ws.command_argv({"bash", "-c", script}), ws.root());
}

// A policy with small limits, so that attacks on them end quickly.
inline sandbox::Policy tight_policy() {
  sandbox::Policy p;
  p.limits.cpu_seconds = 5;
  p.limits.memory_bytes = 512ull << 20;
  p.limits.processes = 64;
  p.limits.file_size_bytes = 8ull << 20;
  p.limits.wall_seconds = 60;  // generous: 8 jobs may share 2 cores
  return p;
}

}  // namespace dsv4::test
