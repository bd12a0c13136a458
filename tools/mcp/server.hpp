#pragma once
// `dsv4 mcp`: the tools as a Model Context Protocol server over stdio.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/policy.hpp"

namespace dsv4::tools::mcp {

struct Options {
  // The workspace when the client offers no roots.
  std::filesystem::path root = ".";
  // Hide every tool that can write or run commands.
  bool read_only = false;
  // --sandbox / --no-sandbox / --allow-network; the policy is loaded for each workspace
  // (its repository config may tighten it).
  sandbox::SandboxFlags sandbox_flags;
  // When not empty, only these tools are offered.
  std::vector<std::string> only_tools;
  size_t page_size = 50;
  size_t max_message_bytes = 8u << 20;
  size_t max_running_calls = 8;
  size_t max_queued_calls = 256;
};

// Serves requests read from `in_fd` and answers on `out_fd` until the input ends.
// Returns the process exit code.
int serve(const Options& options, int in_fd, int out_fd);

// The command line front: parses flags, keeps stdout for the protocol alone.
int mcp_command(const std::vector<std::string>& args);

}  // namespace dsv4::tools::mcp
