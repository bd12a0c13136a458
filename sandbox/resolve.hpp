#pragma once
// Opening a root-relative path beneath a folder fd without ever leaving it: no "..",
// no absolute symlink, no symlink (in any component) pointing outside, no magic link.
#include <sys/types.h>

#include <optional>
#include <string>

namespace dsv4::sandbox {

enum class Resolver {
  openat2,  // the kernel's RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (Linux >= 5.6)
  walk,     // one component at a time with O_NOFOLLOW, symlinks resolved by us
};

// The resolver in use: openat2 where the kernel has it, else walk. Tests force `walk`
// to check that the fallback refuses the same escapes; nullopt goes back to detection.
Resolver active_resolver();
void force_resolver(std::optional<Resolver> resolver);

// Like openat(dirfd, rel, flags | O_CLOEXEC, mode), confined beneath dirfd; symlinks are
// followed only while they stay inside. Returns -1 with errno set; EXDEV or ELOOP mean
// the path tried to leave. "" opens dirfd's folder itself.
int open_beneath(int dirfd, const std::string& rel, int flags, mode_t mode = 0);

}  // namespace dsv4::sandbox
