// The shell tools through the registry and the dsv4 binary, with real bash processes.
#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sandbox/workspace.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/registry.hpp"
#include "tools/shell_env.hpp"
#include "tools/shell_jobs.hpp"

using dsv4::tools::Json;
using namespace std::chrono_literals;

namespace {

struct Shell {
  dsv4::test::TempDir dir;
  dsv4::sandbox::Workspace ws{dir.path()};

  Json call(std::string_view tool, const Json& args, std::stop_token stop = {}) {
    dsv4::tools::ToolContext ctx{ws, stop};
    return dsv4::tools::call_tool(*dsv4::tools::find_tool(tool), args, ctx);
  }
  Json run(const std::string& command, Json extra = Json::object()) {
    extra["command"] = command;
    return call("shell", extra);
  }
  // Polls the job until `done` holds for its status, or fails after 20 s.
  template <class Pred>
  Json wait_job(int job, Pred done) {
    for (auto until = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < until;) {
      Json s = call("shell_status", {{"job", job}});
      if (done(s)) return s;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("job " << job << " did not reach the expected state");
    return {};
  }
};

std::string text(const Json& v) { return v.get<std::string>(); }

}  // namespace

TEST_CASE("shell runs a command in the workspace root and reports how it ended") {
  Shell s;
  s.dir.write("hello.txt", "from a file\n");
  auto r = s.run("cat hello.txt; pwd; echo oops >&2; exit 5");
  CHECK(r["ok"] == true);
  CHECK(r["exit_code"] == 5);
  CHECK(text(r["output"]) == "from a file\n" + s.dir.path().string() + "\noops\n");
  CHECK(r["duration_s"].get<double>() < 5);
  CHECK_FALSE(r.contains("note"));
  CHECK_FALSE(r.contains("signal"));
  auto nul = s.run(std::string("echo a\0; rm -rf x", 17));
  CHECK(nul["ok"] == false);
  CHECK_THAT(text(nul["error"]), Catch::Contains("NUL byte"));
}

TEST_CASE("shell's workdir is checked to be a folder inside the workspace") {
  Shell s;
  std::filesystem::create_directories(s.dir / "a dir with spaces/and more");
  auto ok = s.run("pwd", {{"workdir", "a dir with spaces/and more"}});
  CHECK(text(ok["output"]) == (s.dir / "a dir with spaces/and more").string() + "\n");

  auto up = s.run("pwd", {{"workdir", ".."}});
  CHECK(up["ok"] == false);
  CHECK_THAT(text(up["error"]), Catch::Contains("leaves the workspace"));
  auto abs = s.run("pwd", {{"workdir", "/tmp"}});
  CHECK(abs["ok"] == false);
  CHECK_THAT(text(abs["error"]), Catch::Contains("outside the workspace"));
  std::filesystem::create_directory_symlink("/tmp", s.dir / "escape");
  auto link = s.run("pwd", {{"workdir", "escape"}});
  CHECK(link["ok"] == false);
  CHECK_THAT(text(link["error"]), Catch::Contains("resolves outside the workspace"));
  auto missing = s.run("pwd", {{"workdir", "nope"}});
  CHECK_THAT(text(missing["error"]), Catch::Contains("workdir 'nope' does not exist"));
  s.dir.write("file.txt", "x");
  auto file = s.run("pwd", {{"workdir", "file.txt"}});
  CHECK_THAT(text(file["error"]), Catch::Contains("workdir 'file.txt' is not a folder"));
}

TEST_CASE("secrets are scrubbed from the command's environment and pagers are off") {
  ::setenv("FOO_API_KEY", "s3cret-api", 1);
  ::setenv("GITHUB_TOKEN", "s3cret-gh", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "s3cret-aws", 1);
  ::setenv("my_db_password", "s3cret-db", 1);
  ::setenv("DSV4_TEST_VISIBLE", "visible-value", 1);
  ::setenv("PAGER", "less", 1);
  Shell s;
  auto out = text(s.run("env")["output"]);
  CHECK_THAT(out, !Catch::Contains("s3cret"));
  CHECK_THAT(out, Catch::Contains("DSV4_TEST_VISIBLE=visible-value"));
  CHECK_THAT(out, Catch::Contains("\nPAGER=cat\n"));
  CHECK_THAT(out, !Catch::Contains("PAGER=less"));
  CHECK_THAT(out, Catch::Contains("GIT_PAGER=cat"));
  CHECK_THAT(out, Catch::Contains("TERM=dumb"));
  for (auto name :
       {"FOO_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "my_db_password", "PAGER"})
    ::unsetenv(name);
  ::unsetenv("DSV4_TEST_VISIBLE");
}

TEST_CASE("the secret-name rule matches credential names and leaves ordinary ones") {
  using dsv4::tools::is_secret_name;
  for (auto name :
       {"DEEPSEEK_API_KEY", "OPENAI_APIKEY", "HF_TOKEN", "GH_TOKEN", "TOKEN", "CLIENT_SECRET",
        "PGPASSWORD_X_PASSWORD", "MYSQL_PWD_PASS", "AWS_ACCESS_KEY_ID", "AWS_REGION",
        "GOOGLE_APPLICATION_CREDENTIALS", "SSH_AUTH_SOCK", "npm_config__auth", "ssh_key"})
    CHECK(is_secret_name(name));
  for (auto name : {"PATH", "HOME", "TOKENIZERS_PARALLELISM", "KEYBOARD", "MONKEY", "BYPASS",
                    "LANG", "SSH_CONNECTION", "AUTHOR", "PASSWORD_STORE_DIR"})
    CHECK_FALSE(is_secret_name(name));
}

TEST_CASE("long output keeps head and tail with a note saying how to see everything") {
  Shell s;
  auto r = s.run("seq 1 200000");
  std::string out = text(r["output"]);
  CHECK(out.size() < 40 * 1024);
  CHECK(out.starts_with("1\n2\n3\n"));
  CHECK(out.ends_with("199999\n200000\n"));
  // seq 1 200000 prints 1288895 bytes; the numbers missing from the text are the cut lines.
  CHECK(r["output_bytes"] == 1288895);
  auto last_head = std::stoi(out.substr(out.rfind('\n', out.find("[...") - 2) + 1));
  auto first_tail = std::stoi(out.substr(out.find("...]\n") + 5));
  CHECK_THAT(
      out, Catch::Contains("(" + std::to_string(first_tail - last_head - 1) + " lines) cut here"));
  CHECK_THAT(text(r["note"]), Catch::Contains("redirect it to a file"));
  CHECK_THAT(text(r["note"]), Catch::Contains("read_file"));
}

TEST_CASE("binary output becomes valid JSON text") {
  Shell s;
  auto r = s.run("printf 'PNG\\x89\\x00\\xff\\xfe end'");
  CHECK(r["ok"] == true);
  CHECK(text(r["output"]) == std::string("PNG\\x89\0\\xff\\xfe end", 20));
  CHECK_THAT(text(r["note"]), Catch::Contains("3 bytes are shown as \\xNN"));
  // Escaped, random bytes grow several-fold; the tool shows less rather than letting the
  // registry cut the result blindly.
  auto big = s.run("head -c 300000 /dev/urandom");
  auto dumped = big.dump();
  CHECK(dumped.size() < 80 * 1024);
  CHECK_FALSE(big.contains("truncated"));
  CHECK_THAT(text(big["note"]), Catch::Contains("cut from the middle"));
}

TEST_CASE("a timeout kills the command's group and says so") {
  Shell s;
  auto r = s.run("echo before; sleep 100 & sleep 100; wait", {{"timeout_s", 1}});
  CHECK(r["timed_out"] == true);
  CHECK(r["signal"] == "SIGTERM");
  CHECK(text(r["output"]) == "before\n");
  CHECK_THAT(text(r["note"]), Catch::Contains("timeout_s"));
  CHECK(r["duration_s"].get<double>() < 5);
}

TEST_CASE("a cancelled call ends its command at once") {
  Shell s;
  std::stop_source source;
  std::jthread canceller([&] {
    std::this_thread::sleep_for(300ms);
    source.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = s.call("shell", {{"command", "sleep 100"}}, source.get_token());
  CHECK(r["cancelled"] == true);
  CHECK(std::chrono::steady_clock::now() - start < 4s);
}

TEST_CASE("progress is reported about once a second") {
  Shell s;
  std::vector<std::string> messages;
  dsv4::tools::ToolContext ctx{s.ws};
  ctx.progress = [&](double done, double total, std::string_view message) {
    CHECK(total == 120);
    CHECK(done > 0.5);
    messages.emplace_back(message);
  };
  auto r = dsv4::tools::call_tool(*dsv4::tools::find_tool("shell"),
                                  {{"command", "echo 12345; sleep 2.3"}}, ctx);
  CHECK(r["exit_code"] == 0);
  REQUIRE(messages.size() >= 2);
  CHECK_THAT(messages.back(), Catch::Contains("6 bytes of output"));
}

TEST_CASE("background jobs run on, show their output, and end when killed") {
  Shell s;
  auto started = s.run("echo begin; sleep 100", {{"background", true}});
  REQUIRE(started["ok"] == true);
  int job = started["job"];
  CHECK(started["state"] == "running");
  auto running = s.wait_job(job, [](const Json& j) { return j["output"] == "begin\n"; });
  CHECK(running["state"] == "running");
  CHECK(running["next_since"] == 6);
  auto killed = s.call("shell_kill", {{"job", job}});
  CHECK(killed["state"] == "killed");
  CHECK(killed["signal"] == "SIGTERM");
  CHECK(killed["output"] == "begin\n");
  CHECK(s.call("shell_status", {{"job", job}})["state"] == "killed");
  CHECK(s.call("shell_kill", {{"job", job}})["state"] == "killed");  // already ended: no change
}

TEST_CASE("a background job's exit code and newer output can be read later") {
  Shell s;
  int job = s.run("echo one; sleep 0.5; echo two; exit 4", {{"background", true}})["job"];
  auto first = s.wait_job(job, [](const Json& j) { return j["output"] != ""; });
  CHECK(first["output"] == "one\n");
  auto done = s.wait_job(job, [](const Json& j) { return j["state"] != "running"; });
  CHECK(done["state"] == "exited");
  CHECK(done["exit_code"] == 4);
  CHECK(done["output"] == "one\ntwo\n");
  auto newer = s.call("shell_status", {{"job", job}, {"since", first["next_since"]}});
  CHECK(newer["output"] == "two\n");
  auto beyond = s.call("shell_status", {{"job", job}, {"since", 1000}});
  CHECK(beyond["ok"] == false);
  CHECK_THAT(text(beyond["error"]), Catch::Contains("beyond the 8 bytes"));
  auto unknown = s.call("shell_status", {{"job", 99999}});
  CHECK(unknown["ok"] == false);
  CHECK_THAT(text(unknown["error"]), Catch::Contains("no background job 99999"));
}

TEST_CASE("a background job with a timeout is killed when it runs past it") {
  Shell s;
  int job = s.run("sleep 100", {{"background", true}, {"timeout_s", 1}})["job"];
  auto done = s.wait_job(job, [](const Json& j) { return j["state"] != "running"; });
  CHECK(done["state"] == "killed");
  CHECK(done["timed_out"] == true);
}

TEST_CASE("dsv4 tool shell runs a command and prints JSON") {
  dsv4::test::TempDir dir;
  auto r = dsv4::test::run_dsv4(
      {"tool", "shell", "--args", R"({"command":"echo hi"})", "--root", dir.path()});
  CHECK(r.exit_code == 0);
  auto json = Json::parse(r.out);
  CHECK(json["output"] == "hi\n");
  CHECK(json["exit_code"] == 0);
  auto bad = dsv4::test::run_dsv4(
      {"tool", "shell", "--args", R"({"command":"pwd","workdir":"../.."})", "--root", dir.path()});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("leaves the workspace"));
}

TEST_CASE("background jobs are ended when the process that started them exits") {
  dsv4::test::TempDir dir;
  auto r = dsv4::test::run({JOB_EXIT_PROBE, (dir / "pid").string()});
  REQUIRE(r.exit_code == 0);
  pid_t pid = std::stoi(r.out);
  REQUIRE(pid > 0);
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  // Gone, or at most a zombie waiting for init to reap it.
  if (std::getline(stat, line)) CHECK(line.substr(line.rfind(')') + 2, 1) == "Z");
}

TEST_CASE("at most kMaxRunning background jobs run at once") {
  Shell s;
  std::vector<int> started;
  Json refused;
  for (int i = 0; i <= dsv4::tools::jobs::kMaxRunning; ++i) {
    auto r = s.run("sleep 100", {{"background", true}});
    if (r["ok"] == false) {
      refused = r;
      break;
    }
    started.push_back(r["job"]);
  }
  REQUIRE(refused.is_object());
  CHECK_THAT(text(refused["error"]), Catch::Contains("background jobs are running already"));
  CHECK(started.size() <= static_cast<size_t>(dsv4::tools::jobs::kMaxRunning));
  for (int job : started) CHECK(s.call("shell_kill", {{"job", job}})["state"] == "killed");
  CHECK(s.run("true", {{"background", true}})["ok"] == true);
}
