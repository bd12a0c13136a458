#pragma once
// How the launcher reports while it builds the sandbox.
#include <cerrno>
#include <string>

namespace dsv4::sandbox {

// Ends the process with status 125 and "dsv4 sandbox: WHAT: ERRNO TEXT; the command was
// not run": setup failures fail closed, before the command starts.
[[noreturn]] void die(const std::string& what, int err = errno);
// One "dsv4 sandbox: ..." line on stderr.
void note(const std::string& msg);

}  // namespace dsv4::sandbox
