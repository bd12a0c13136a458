#pragma once
// Where the isolating launcher is, and whether this machine can isolate commands.
#include <filesystem>
#include <string>

namespace dsv4::sandbox {

// The dsv4 binary that runs `dsv4 sandbox exec`: this process's own executable unless set
// (test programs set it to the built dsv4).
std::filesystem::path launcher_path();
void set_launcher_path(const std::filesystem::path& path);

// "" when commands can be isolated here; otherwise why not, in a few words. Asks the
// launcher (`dsv4 sandbox check --quiet`, a real trial run) once per process.
std::string isolation_problem();

}  // namespace dsv4::sandbox
