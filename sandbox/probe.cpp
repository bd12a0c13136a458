#include "sandbox/probe.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/fd.hpp"

namespace dsv4::sandbox {

std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "cannot create a pipe";
  Fd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return "cannot fork";
  if (pid == 0) {
    ::dup2(write_end.get(), 2);
    std::string err = body();
    if (!err.empty()) {
      [[maybe_unused]] auto n = ::write(2, err.data(), err.size());
    }
    ::_exit(err.empty() ? 0 : 1);
  }
  write_end.reset();
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.empty() ? "failed (status " + std::to_string(status) + ")" : text;
}

}  // namespace dsv4::sandbox
