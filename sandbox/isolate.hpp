#pragma once
// Runs one command isolated by Linux primitives: user, mount, PID, IPC, UTS, cgroup and
// (unless the policy allows the network) network namespaces; the root filesystem
// read-only with a private /tmp, a minimal /dev and a fresh /proc; the workspace and the
// writable paths read-write except the protected paths; then, for the command itself,
// rlimits, no capabilities, PR_SET_NO_NEW_PRIVS and a seccomp filter.
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/policy.hpp"

namespace dsv4::sandbox {

// Runs argv (looked up in PATH) from the current folder and returns its exit status
// (128 + signal when killed); 125 when the sandbox could not be set up (nothing ran),
// 137 when the wall-time limit killed it. Must be called from a single-threaded process.
int run_isolated(const Policy& policy, const std::filesystem::path& root,
                 const std::vector<std::string>& argv);

}  // namespace dsv4::sandbox
