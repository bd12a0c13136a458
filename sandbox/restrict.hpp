#pragma once
// The last steps before a sandboxed command starts, applied to the calling process:
// rlimits, all capabilities dropped, PR_SET_NO_NEW_PRIVS, the seccomp filter.
#include <string>

#include "sandbox/policy.hpp"

namespace dsv4::sandbox {

// Returns "" on success, else what failed (the caller must then not run the command).
std::string restrict_self(const Limits& limits);

// Only the seccomp filter (for `dsv4 sandbox check`).
std::string install_seccomp_filter();

}  // namespace dsv4::sandbox
