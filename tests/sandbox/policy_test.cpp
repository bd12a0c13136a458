// The policy: configuration JSON, front-end flags, the loud notes, `dsv4 sandbox check`.
#include <catch2/catch.hpp>

#include <filesystem>

#include "sandbox/policy.hpp"
#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dsv4::sandbox;
using dsv4::test::run_dsv4;
using dsv4::test::TempDir;

namespace {

std::string error_of(Policy& p, const std::string& json, ConfigSource source) {
  try {
    apply_config(p, json, source);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("policy: defaults are workspace-write, no network, .git/hooks .git/config .dsv4 protected") {
  Policy p;
  CHECK(p.mode == Mode::workspace_write);
  CHECK_FALSE(p.network);
  CHECK(p.isolate_commands);
  CHECK(p.protected_paths == std::vector<std::string>{".git/hooks/", ".git/config", ".dsv4/"});
  CHECK(p.limits.wall_seconds > 0);
  CHECK(p.limits.processes > 0);
  CHECK(policy_warning(p).empty());
}

TEST_CASE("policy: user config sets every field") {
  Policy p;
  apply_config(p, R"({"sandbox": {"mode": "read-only", "network": "on",
      "readable": ["/opt/data"], "writable": ["~/cache"], "protected": [".secrets/"],
      "hidden": ["/srv"], "limits": {"cpu_seconds": 7, "memory_mb": 100, "processes": 9,
      "file_size_mb": 2, "wall_seconds": 0}}})",
               ConfigSource::user);
  CHECK(p.mode == Mode::read_only);
  CHECK(p.network);
  CHECK(p.readable == std::vector<std::string>{"/opt/data"});
  CHECK(p.writable == std::vector<std::string>{"~/cache"});
  CHECK(p.protected_paths == std::vector<std::string>{".secrets/"});
  CHECK(p.hidden == std::vector<std::string>{"/srv"});
  CHECK(p.limits.cpu_seconds == 7);
  CHECK(p.limits.memory_bytes == 100ull << 20);
  CHECK(p.limits.processes == 9);
  CHECK(p.limits.file_size_bytes == 2ull << 20);
  CHECK(p.limits.wall_seconds == 0);
  // The inner object alone is accepted too.
  apply_config(p, R"({"mode": "workspace-write", "network": false})", ConfigSource::user);
  CHECK(p.mode == Mode::workspace_write);
  CHECK_FALSE(p.network);
}

TEST_CASE("policy: bad config names the key and what is expected") {
  Policy p;
  CHECK_THAT(error_of(p, "{", ConfigSource::user), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of(p, R"({"sandbox": {"mode": "yolo"}})", ConfigSource::user),
             Catch::Contains("'mode'") && Catch::Contains("workspace-write"));
  CHECK_THAT(error_of(p, R"({"sandbox": {"network": 1}})", ConfigSource::user),
             Catch::Contains("'network'"));
  CHECK_THAT(error_of(p, R"({"sandbox": {"writable": "/x"}})", ConfigSource::user),
             Catch::Contains("'writable'") && Catch::Contains("array"));
  CHECK_THAT(error_of(p, R"({"sandbox": {"limits": {"cpu_seconds": -1}}})", ConfigSource::user),
             Catch::Contains("'limits.cpu_seconds'"));
  CHECK_THAT(error_of(p, R"({"sandbox": {"limits": {"gpu": 1}}})", ConfigSource::user),
             Catch::Contains("'limits.gpu'"));
  CHECK_THAT(error_of(p, R"({"sandbox": {"colour": 1}})", ConfigSource::user),
             Catch::Contains("'colour'"));
  CHECK(p.mode == Mode::workspace_write);
}

TEST_CASE("policy attack: a repository config tries to loosen its own sandbox") {
  for (const char* json :
       {R"({"sandbox": {"mode": "full-access"}})", R"({"sandbox": {"network": true}})",
        R"({"sandbox": {"writable": ["/"]}})", R"({"sandbox": {"readable": ["/root"]}})",
        R"({"sandbox": {"limits": {"wall_seconds": 0}}})",
        R"({"sandbox": {"limits": {"processes": 100000}}})"}) {
    INFO(json);
    Policy p;
    CHECK_THAT(error_of(p, json, ConfigSource::repository),
               Catch::Contains("repository-config-only-tightens"));
    CHECK(p.mode == Mode::workspace_write);
    CHECK_FALSE(p.network);
  }
  // Tightening is fine, and protected paths are added to the defaults, not replacing them.
  Policy p;
  apply_config(p, R"({"sandbox": {"mode": "read-only", "protected": ["secrets"],
                      "limits": {"wall_seconds": 60}}})",
               ConfigSource::repository);
  CHECK(p.mode == Mode::read_only);
  CHECK(p.protected_paths.size() == 4);
  CHECK(p.limits.wall_seconds == 60);
}

TEST_CASE("policy: front-end flags") {
  std::vector<std::string> args{"--sandbox", "read-only", "--allow-network", "--no-sandbox", "x"};
  SandboxFlags f;
  size_t i = 0;
  CHECK(parse_sandbox_flag(args, i, f));
  CHECK(i == 1);  // left on the value; the caller's loop steps past it
  CHECK(f.mode == Mode::read_only);
  i = 2;
  CHECK(parse_sandbox_flag(args, i, f));
  CHECK(f.allow_network);
  i = 3;
  CHECK(parse_sandbox_flag(args, i, f));
  CHECK(f.no_sandbox);
  i = 4;
  CHECK_FALSE(parse_sandbox_flag(args, i, f));
  std::vector<std::string> bad{"--sandbox", "everything"};
  i = 0;
  CHECK_THROWS_WITH(parse_sandbox_flag(bad, i, f), Catch::Contains("'everything' is not a mode"));
  std::vector<std::string> missing{"--sandbox"};
  i = 0;
  CHECK_THROWS_WITH(parse_sandbox_flag(missing, i, f), Catch::Contains("needs a mode"));
}

TEST_CASE("policy: user config, then repository config, then flags") {
  TempDir home, repo;
  home.write("dsv4/config.json", R"({"model": "x", "sandbox": {"network": true,
      "limits": {"wall_seconds": 100}}})");
  repo.write(".dsv4/config.json", R"({"sandbox": {"limits": {"wall_seconds": 50}}})");
  ::setenv("XDG_CONFIG_HOME", home.path().c_str(), 1);
  auto p = load_policy(repo.path(), {});
  CHECK(p.network);
  CHECK(p.limits.wall_seconds == 50);
  SandboxFlags flags;
  flags.mode = Mode::full_access;
  flags.no_sandbox = true;
  auto q = load_policy(repo.path(), flags);
  CHECK(q.mode == Mode::full_access);
  CHECK_FALSE(q.isolate_commands);
  // A repository that tries to loosen is refused, naming its file.
  repo.write(".dsv4/config.json", R"({"sandbox": {"mode": "full-access"}})");
  CHECK_THROWS_WITH(load_policy(repo.path(), {}),
                    Catch::Contains(".dsv4/config.json") &&
                        Catch::Contains("repository-config-only-tightens"));
  auto r = run_dsv4({"tool", "no_such", "--root", repo.path().string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("repository-config-only-tightens"));
  ::unsetenv("XDG_CONFIG_HOME");
}

TEST_CASE("policy: full-access and --no-sandbox are announced loudly by dsv4 tool") {
  auto full = run_dsv4({"tool", "no_such", "--sandbox", "full-access"});
  CHECK_THAT(full.err, Catch::Contains("WARNING: sandbox mode full-access"));
  auto unisolated = run_dsv4({"tool", "no_such", "--no-sandbox"});
  CHECK_THAT(unisolated.err, Catch::Contains("WARNING: --no-sandbox"));
  auto plain = run_dsv4({"tool", "no_such"});
  CHECK_THAT(plain.err, !Catch::Contains("WARNING"));
  auto bad = run_dsv4({"tool", "x", "--sandbox", "bogus"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("'bogus' is not a mode"));
  Policy p;
  p.mode = Mode::full_access;
  CHECK_THAT(policy_warning(p), Catch::Contains("WARNING") && Catch::Contains("full-access"));
  p.mode = Mode::workspace_write;
  p.isolate_commands = false;
  CHECK_THAT(policy_warning(p), Catch::Contains("WARNING") && Catch::Contains("--no-sandbox"));
}

TEST_CASE("policy: protected paths must lie inside the workspace") {
  TempDir dir;
  for (const char* bad : {"../x", "/etc", ".", ""}) {
    INFO(bad);
    Policy p;
    p.protected_paths = {bad};
    CHECK_THROWS_AS(Workspace(dir.path(), p), std::invalid_argument);
  }
}

TEST_CASE("policy: the launcher's JSON round-trips") {
  Policy p;
  p.mode = Mode::read_only;
  p.network = true;
  p.writable = {"/a"};
  p.readable = {"~/b"};
  p.limits.cpu_seconds = 3;
  fs::path root;
  auto back = policy_from_json(policy_to_json(p, "/ws"), root);
  CHECK(root == "/ws");
  CHECK(back.mode == Mode::read_only);
  CHECK(back.network);
  CHECK(back.writable == std::vector<std::string>{"/a"});
  CHECK(back.readable == std::vector<std::string>{expand_home("~/b").string()});
  CHECK(back.limits.cpu_seconds == 3);
  CHECK(back.protected_paths == p.protected_paths);
}

TEST_CASE("dsv4 sandbox check prints what isolation this machine supports") {
  auto r = run_dsv4({"sandbox", "check"});
  CHECK_THAT(r.out, Catch::Contains("user namespace") && Catch::Contains("network namespace") &&
                        Catch::Contains("seccomp") && Catch::Contains("commands: "));
  // Its verdict agrees with its exit code.
  if (r.exit_code == 0) CHECK_THAT(r.out, Catch::Contains("commands: isolated"));
  else CHECK_THAT(r.out, Catch::Contains("commands: NOT isolated") && Catch::Contains("--no-sandbox"));
  auto help = run_dsv4({"sandbox", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(run_dsv4({"sandbox", "frob"}).exit_code == 2);
}
