#include "tools/bench_search.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <stdexcept>
#include <utility>

#include "sandbox/workspace.hpp"
#include "tools/regex.hpp"
#include "tools/text_search.hpp"

extern char** environ;

namespace dsv4::tools {
namespace {

constexpr const char* kUsage =
    "usage: dsv4 bench search DIR PATTERN [--ignore-case] [--runs N]\n"
    "Searches DIR for PATTERN with search_text's engine and with ripgrep (rg, no config),\n"
    "N warm runs each (default 5), and prints the median times, their ratio, and whether\n"
    "both found the same (path, line) set. Exit code 0 when the sets are identical, 1 when\n"
    "they differ, 2 on bad usage.\n";

using MatchSet = std::set<std::pair<std::string, uint64_t>>;

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;  // user + system, over all threads or the child process
};

double cpu_ms(const rusage& r) {
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(r.ru_utime) + ms(r.ru_stime);
}

// Runs rg in `dir` and returns its stdout; `cpu` gets the child's CPU time.
std::string run_rg(const std::filesystem::path& dir, const std::string& pattern, bool icase,
                   double& cpu) {
  std::vector<std::string> argv{"rg",     "--no-config", "--line-number", "--column",
                                "--no-heading", "--null", "--color", "never"};
  if (icase) argv.push_back("--ignore-case");
  argv.insert(argv.end(), {"-e", pattern});
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, "rg", &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (err != 0) {
    ::close(out[0]);
    throw std::runtime_error("cannot run rg (install the Debian package 'ripgrep')");
  }
  std::string text;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  cpu = cpu_ms(usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
    throw std::runtime_error("rg failed with status " + std::to_string(status));
  return text;
}

// rg --null --line-number --column: "path\0line:col:text\n" per matching line.
MatchSet parse_rg(std::string_view out) {
  MatchSet set;
  while (!out.empty()) {
    auto nul = out.find('\0');
    if (nul == std::string_view::npos) break;
    std::string path(out.substr(0, nul));
    out.remove_prefix(nul + 1);
    uint64_t line = 0;
    while (!out.empty() && out[0] >= '0' && out[0] <= '9') {
      line = line * 10 + static_cast<uint64_t>(out[0] - '0');
      out.remove_prefix(1);
    }
    auto nl = out.find('\n');
    out.remove_prefix(nl == std::string_view::npos ? out.size() : nl + 1);
    set.emplace(std::move(path), line);
  }
  return set;
}

template <typename F>
Timing timed(F&& f) {
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  auto t0 = std::chrono::steady_clock::now();
  double child_cpu = -1;
  f(child_cpu);
  auto t1 = std::chrono::steady_clock::now();
  ::getrusage(RUSAGE_SELF, &after);
  Timing t;
  t.wall_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  t.cpu_ms = child_cpu >= 0 ? child_cpu : cpu_ms(after) - cpu_ms(before);
  return t;
}

Timing median(std::vector<Timing> runs) {
  auto mid = [&](auto key) {
    std::vector<double> v;
    for (auto& r : runs) v.push_back(key(r));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {mid([](const Timing& t) { return t.wall_ms; }),
          mid([](const Timing& t) { return t.cpu_ms; })};
}

std::string printable(const std::pair<std::string, uint64_t>& m) {
  return m.first + ":" + std::to_string(m.second);
}

void report_difference(const MatchSet& ours, const MatchSet& rg) {
  std::vector<std::pair<std::string, uint64_t>> only_ours, only_rg;
  std::set_difference(ours.begin(), ours.end(), rg.begin(), rg.end(), std::back_inserter(only_ours));
  std::set_difference(rg.begin(), rg.end(), ours.begin(), ours.end(), std::back_inserter(only_rg));
  std::cout << "match sets differ: " << only_ours.size() << " only in dsv4, " << only_rg.size()
            << " only in rg\n";
  for (size_t i = 0; i < std::min<size_t>(5, only_ours.size()); ++i)
    std::cout << "  only dsv4: " << printable(only_ours[i]) << "\n";
  for (size_t i = 0; i < std::min<size_t>(5, only_rg.size()); ++i)
    std::cout << "  only rg:   " << printable(only_rg[i]) << "\n";
}

}  // namespace

int bench_search_command(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  bool icase = false;
  int runs = 5;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (args[i] == "--ignore-case" || args[i] == "-i") {
      icase = true;
    } else if (args[i] == "--runs" && i + 1 < args.size()) {
      runs = std::atoi(args[++i].c_str());
    } else if (args[i].starts_with("--")) {
      std::cerr << "dsv4 bench search: unknown option '" << args[i] << "'\n" << kUsage;
      return 2;
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() != 2 || runs < 1) {
    std::cerr << "dsv4 bench search: expected DIR and PATTERN (and --runs N >= 1)\n" << kUsage;
    return 2;
  }
  std::filesystem::path dir = positional[0];
  const std::string& pattern = positional[1];
  std::unique_ptr<sandbox::Workspace> workspace;
  try {
    workspace = std::make_unique<sandbox::Workspace>(dir);
  } catch (const std::invalid_argument& e) {
    std::cerr << "dsv4 bench search: " << e.what() << "\n";
    return 2;
  }

  TextSearch request;
  request.pattern = pattern;
  request.ignore_case = icase;
  TextSearchResult ours;
  std::string rg_out;
  std::vector<Timing> ours_runs, rg_runs;
  try {
    for (int i = 0; i <= runs; ++i) {  // run 0 warms the page cache and is not counted
      Timing a = timed([&](double&) { ours = search_tree(*workspace, request); });
      Timing b = timed([&](double& cpu) { rg_out = run_rg(workspace->root(), pattern, icase, cpu); });
      if (i > 0) {
        ours_runs.push_back(a);
        rg_runs.push_back(b);
      }
    }
  } catch (const RegexError& e) {
    std::cerr << "dsv4 bench search: " << e.what() << "\n";
    return 2;
  }
  MatchSet ours_set, rg_set = parse_rg(rg_out);
  for (auto& m : ours.matches) ours_set.emplace(m.path, m.line);

  Timing a = median(ours_runs), b = median(rg_runs);
  std::printf("search '%s'%s in %s: %zu files searched, %zu binary\n", pattern.c_str(),
              icase ? " (ignore case)" : "", workspace->root().c_str(), ours.files_searched,
              ours.binary_files);
  std::printf("dsv4: %8.1f ms wall, %8.1f ms cpu (median of %d), %zu matching lines\n",
              a.wall_ms, a.cpu_ms, runs, ours_set.size());
  std::printf("rg:   %8.1f ms wall, %8.1f ms cpu (median of %d), %zu matching lines\n",
              b.wall_ms, b.cpu_ms, runs, rg_set.size());
  std::printf("ratio dsv4/rg: %.2f wall, %.2f cpu\n", a.wall_ms / b.wall_ms, a.cpu_ms / b.cpu_ms);
  std::fflush(stdout);
  if (ours_set == rg_set) {
    std::cout << "match sets (path, line): identical\n";
    return 0;
  }
  report_difference(ours_set, rg_set);
  return 1;
}

}  // namespace dsv4::tools
