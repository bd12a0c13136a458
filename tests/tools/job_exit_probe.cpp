// Starts a background job whose command records its pid in the file named by argv[1],
// prints that pid once it is there, and returns from main while the job still runs: the
// test that runs this checks that the job table ended the job at exit.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "tools/shell_jobs.hpp"

extern char** environ;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::filesystem::path pid_file = argv[1];
  dsv4::tools::ProcessSpec spec;
  spec.argv = {"bash", "-c", "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\" && exec sleep 100",
               pid_file.string()};
  spec.cwd = "/";
  for (char** e = environ; *e; ++e) spec.env.emplace_back(*e);
  dsv4::tools::jobs::start(spec, "probe");
  for (int i = 0; i < 1000 && !std::filesystem::exists(pid_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::ifstream in(pid_file);
  std::string pid;
  if (!(in >> pid)) return 1;
  std::cout << pid << "\n";
  return 0;
}
