#include "sandbox/fd.hpp"

#include <unistd.h>

namespace dsv4::sandbox {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace dsv4::sandbox
