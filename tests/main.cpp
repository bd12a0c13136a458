// Every test program runs commands the way dsv4 does: through the built binary's
// isolating launcher (a test program cannot be the launcher itself).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sandbox/launcher.hpp"

int main(int argc, char** argv) {
  dsv4::sandbox::set_launcher_path(DSV4_BINARY);
  return Catch::Session().run(argc, argv);
}
