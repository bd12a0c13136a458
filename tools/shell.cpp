// shell, shell_status, shell_kill: commands run by bash in the workspace, in the
// foreground or as background jobs.
#include <cmath>
#include <nlohmann/json.hpp>
#include <system_error>

#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/output_buffer.hpp"
#include "tools/process.hpp"
#include "tools/shell_env.hpp"
#include "tools/shell_jobs.hpp"

extern char** environ;

namespace dsv4::tools::builtin {
namespace {

constexpr int kDefaultTimeoutS = 120, kMaxTimeoutS = 3600;
constexpr size_t kShow = 16 * 1024;  // bytes shown from each end of the output

double rounded(double seconds) { return std::round(seconds * 1000) / 1000; }

// The folder to run in, checked to be a folder inside the workspace.
std::filesystem::path workdir(const Json& args, const sandbox::Workspace& ws) {
  auto shown = args.value("workdir", std::string("."));
  auto rel = ws.relative(shown);
  try {
    ws.open_dir(rel);  // refuses symlinks that lead out of the root
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::no_such_file_or_directory)
      throw ToolError("workdir '" + shown +
                      "' does not exist in the workspace; give an existing folder (relative to the "
                      "workspace root) or create it first");
    if (e.code() == std::errc::not_a_directory)
      throw ToolError("workdir '" + shown +
                      "' is not a folder; give a folder relative to the workspace root");
    throw;
  }
  return ws.absolute(rel);
}

ProcessSpec spec_for(const Json& args, const ToolContext& ctx) {
  ProcessSpec spec;
  spec.argv = ctx.workspace.command_argv({"bash", "-c", args["command"].get<std::string>()});
  spec.cwd = workdir(args, ctx.workspace);
  spec.env = shell_environment(environ);
  return spec;
}

// How a command ended, for the model; notes say what to do about anything unusual.
Json describe(const ProcessEnd& end, double seconds, std::vector<std::string>& notes) {
  Json r;
  if (end.signal)
    r["signal"] = signal_name(end.signal);
  else
    r["exit_code"] = end.exit_code;
  r["duration_s"] = rounded(seconds);
  if (end.timed_out) {
    r["timed_out"] = true;
    notes.push_back(
        "timed out: the command ran past its timeout_s and was killed with "
        "everything it started. Give a larger timeout_s (at most " +
        std::to_string(kMaxTimeoutS) + ") or run it with background: true");
  }
  if (end.stopped) {
    r["cancelled"] = true;
    notes.push_back("cancelled; the command and everything it started were killed");
  }
  if (end.leftovers > 0)
    notes.push_back(
        "the command left " + std::to_string(end.leftovers) +
        " process(es) running in the background (started with &, nohup or as daemons); "
        "they were ended when it exited. Run servers and watchers with background: true");
  return r;
}

void add_output(Json& r, const RenderedOutput& out, uint64_t total, std::vector<std::string>& notes,
                const std::string& how_to_see_all) {
  r["output"] = out.text;
  if (out.cut_bytes) {
    r["output_bytes"] = total;
    notes.push_back(std::to_string(out.cut_bytes) + " of " + std::to_string(total) +
                    " output bytes were cut from the middle; " + how_to_see_all);
  }
  if (out.invalid_bytes)
    notes.push_back("the output is not all valid UTF-8: " + std::to_string(out.invalid_bytes) +
                    " bytes are shown as \\xNN");
}

void add_notes(Json& r, const std::vector<std::string>& notes) {
  std::string joined;
  for (const auto& n : notes) joined += (joined.empty() ? "" : "\n") + n;
  if (!joined.empty()) r["note"] = joined;
}

Json job_result(const JobSnapshot& job) {
  std::vector<std::string> notes;
  Json r = {{"job", job.id}, {"command", job.command}};
  if (job.running) {
    r["state"] = "running";
    r["duration_s"] = rounded(job.seconds);
  } else if (!job.error.empty()) {
    r["state"] = "failed";
    notes.push_back(job.error);
  } else {
    r["state"] = job.end.signal ? "killed" : "exited";
    r.update(describe(job.end, job.seconds, notes));
  }
  add_output(r, job.output, job.output_bytes, notes,
             "shell_status with since (next_since of an earlier call) shows only newer output");
  r["next_since"] = job.output_bytes;
  add_notes(r, notes);
  return r;
}

Json run_shell(const Json& args, ToolContext& ctx) {
  ProcessSpec spec = spec_for(args, ctx);
  const auto command = args["command"].get<std::string>();
  if (args.value("background", false)) {
    if (args.contains("timeout_s"))
      spec.timeout = std::chrono::seconds(args["timeout_s"].get<int>());
    int id;
    try {
      id = jobs::start(std::move(spec), command);
    } catch (const std::runtime_error& e) {
      throw ToolError(e.what());
    }
    return {{"job", id},
            {"state", "running"},
            {"note", "started in the background; shell_status {\"job\": " + std::to_string(id) +
                         "} shows its state and output, shell_kill ends it. Background jobs end "
                         "when this dsv4 process exits"}};
  }
  const int timeout_s = args.value("timeout_s", kDefaultTimeoutS);
  spec.timeout = std::chrono::seconds(timeout_s);
  OutputBuffer output(kShow, kShow);
  Tick tick;
  if (ctx.progress)
    tick = [&](double elapsed) {
      ctx.progress(elapsed, timeout_s,
                   "running for " + std::to_string(std::lround(elapsed)) + " s, " +
                       std::to_string(output.total_bytes()) + " bytes of output");
    };
  ProcessEnd end = run_process(
      spec, ctx.stop, [&](std::string_view bytes) { output.append(bytes); }, tick);
  std::vector<std::string> notes;
  Json r = describe(end, end.seconds, notes);
  add_output(r, output.render(0, kShow, kShow), output.total_bytes(), notes,
             "to see all of it, redirect it to a file (COMMAND > out.log 2>&1) and read that with "
             "read_file, or filter it (grep, head, tail)");
  add_notes(r, notes);
  return r;
}

Json run_status(const Json& args, ToolContext&) {
  try {
    return job_result(jobs::status(args["job"].get<int>(), args.value("since", uint64_t{0})));
  } catch (const std::out_of_range& e) {
    throw ToolError(e.what());
  }
}

Json run_kill(const Json& args, ToolContext&) {
  try {
    return job_result(jobs::kill(args["job"].get<int>()));
  } catch (const std::out_of_range& e) {
    throw ToolError(e.what());
  }
}

}  // namespace

const Tool shell{"shell",
                 R"({
  "type": "object",
  "properties": {
    "command": {"type": "string", "minLength": 1},
    "timeout_s": {"type": "integer", "minimum": 1, "maximum": 3600},
    "workdir": {"type": "string"},
    "background": {"type": "boolean"}
  },
  "required": ["command"],
  "additionalProperties": false
})",
                 {.read_only = false, .destructive = true, .idempotent = false, .open_world = true},
                 run_shell};

const Tool shell_status{
    "shell_status",
    R"({
  "type": "object",
  "properties": {
    "job": {"type": "integer", "minimum": 1},
    "since": {"type": "integer", "minimum": 0}
  },
  "required": ["job"],
  "additionalProperties": false
})",
    {.read_only = true, .destructive = false, .idempotent = true, .open_world = false},
    run_status};

const Tool shell_kill{
    "shell_kill",
    R"({
  "type": "object",
  "properties": {
    "job": {"type": "integer", "minimum": 1}
  },
  "required": ["job"],
  "additionalProperties": false
})",
    {.read_only = false, .destructive = true, .idempotent = true, .open_world = false},
    run_kill};

}  // namespace dsv4::tools::builtin
