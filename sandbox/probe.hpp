#pragma once
// Runs a check in a forked child, so that namespaces, mounts and filters it tries stay
// out of the calling process.
#include <functional>
#include <string>

namespace dsv4::sandbox {

// `body` returns "" on success or what failed; its exit status and anything it wrote to
// stderr come back as the answer ("" = success). Call from a single-threaded process,
// or with a body that only makes system calls.
std::string in_child(const std::function<std::string()>& body);

}  // namespace dsv4::sandbox
