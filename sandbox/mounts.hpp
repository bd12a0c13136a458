#pragma once
// The sandbox's view of the filesystem, built inside a new mount namespace: the root
// read-only (no setuid, no devices), private /tmp, /var/tmp and /run, the policy's hidden
// paths emptied, a minimal /dev, the workspace and writable paths read-write, the
// protected paths read-only (and pinned, so that they cannot be renamed away), and a
// fresh /proc whose kernel knobs are read-only.
#include <string>

#include "sandbox/policy.hpp"

namespace dsv4::sandbox {

// Must run as PID 1 of the new PID namespace (for /proc); ends the process with status
// 125 and a message on failure.
void build_mounts(const Policy& policy, const std::string& root);

}  // namespace dsv4::sandbox
