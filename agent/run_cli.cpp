#include "agent/run_cli.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/client_factory.hpp"
#include "agent/local_client.hpp"
#include "agent/loop.hpp"
#include "agent/openai_client.hpp"
#include "agent/pricing.hpp"
#include "agent/run_config.hpp"
#include "agent/session.hpp"
#include "agent/terminal.hpp"
#include "agent/token_count.hpp"
#include "agent/workspace_diff.hpp"
#include "sandbox/policy.hpp"
#include "sandbox/workspace.hpp"

namespace dsv4::agent {
namespace {

using Json = nlohmann::json;

constexpr const char* kUsage =
    "usage: dsv4 run TASK [OPTIONS]\n"
    "Runs the agent on TASK in the workspace (default: the current folder) until it answers.\n"
    "\n"
    "  --base-url URL        model server (default with DEEPSEEK_API_KEY set:\n"
    "                        https://api.deepseek.com, or its /anthropic for anthropic)\n"
    "  --provider P          deepseek | vllm | sglang | generic (OpenAI-compatible API) |\n"
    "                        anthropic (Anthropic Messages API) (default deepseek)\n"
    "  --model DIR           run the model in DIR on the local engine (config.json,\n"
    "                        safetensors, tokenizer.json) instead of a server\n"
    "  --temperature T       local engine: sampling temperature (default 0, greedy; tool-call\n"
    "                        markup is always greedy)\n"
    "  --threads N           local engine: threads (default: every core)\n"
    "  --model-name M        model (default deepseek-v4-flash)\n"
    "  --fallback-model M    model to switch to when M stays unavailable\n"
    "  --api-key-env NAME    environment variable holding the API key (default DEEPSEEK_API_KEY)\n"
    "  --thinking T          off | high | max (default high)\n"
    "  --approve MODE        read-only | ask | auto-edit | full-auto (default auto-edit)\n"
    "  --max-steps N         model turns before giving up (default 50)\n"
    "  --max-total-tokens N  input + output tokens before giving up (default: no limit)\n"
    "  --max-cost USD        estimated cost before giving up (default: no limit)\n"
    "  --max-seconds N       wall time before giving up (default: no limit)\n"
    "  --max-tokens N        max_tokens of each request (default 32768)\n"
    "  --context-tokens N    the model's context window; older turns are summarised when a\n"
    "                        prompt passes 80% of it (default 1048576, V4's window)\n"
    "  --tokenizer DIR       tokenizer.json for counting tokens (default: the installed V4 one)\n"
    "  --max-attempts N      attempts per model on 429/5xx/timeouts (default 5)\n"
    "  --retry-base-ms N     first backoff delay (default 500)\n"
    "  --no-stream           plain JSON responses instead of server-sent events\n"
    "  --strict-tools        strict function calling: the server holds arguments to the\n"
    "                        schemas (DeepSeek: through its beta endpoint)\n"
    "  --json-answer         the final answer is one JSON object (JSON output mode)\n"
    "  --root DIR            the workspace (default .)\n"
    "  --session FILE        session file (default under $XDG_STATE_HOME/dsv4/sessions)\n"
    "  --resume FILE         continue the session in FILE (TASK optional)\n"
    "  --json                print one JSON object {status, answer, steps, tool_calls, usage,\n"
    "                        cache_hit_ratio, cost_usd, patch, session}\n"
    "  --events              stream JSONL events while running\n"
    "Defaults for every option can be set in the \"agent\" object of\n"
    "$XDG_CONFIG_HOME/dsv4/config.json, named without dashes ({\"base_url\": \"...\",\n"
    "\"thinking\": \"max\", \"strict_tools\": true}); a repository's .dsv4/config.json may set\n"
    "only thinking and budgets.\n"
    "Exit status: 0 done, 1 error, 3 budget exhausted, 130 interrupted.\n"
    "Sandbox flags:\n";

std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted.store(true); }

int usage_error(const std::string& message) {
  std::cerr << "dsv4 run: " << message << "\n(see 'dsv4 run --help')\n";
  return 2;
}

std::filesystem::path default_session_path() {
  std::filesystem::path base;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
    base = state;
  else if (const char* home = std::getenv("HOME"); home && *home)
    base = std::filesystem::path(home) / ".local/state";
  else
    base = std::filesystem::temp_directory_path();
  base /= "dsv4/sessions";
  std::filesystem::create_directories(base);
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  return base / (std::string(stamp) + "-" + std::to_string(::getpid()) + ".jsonl");
}

int exit_code(RunStatus status) {
  switch (status) {
    case RunStatus::done:
      return 0;
    case RunStatus::error:
      return 1;
    case RunStatus::budget:
      return 3;
    case RunStatus::interrupted:
      return 130;
  }
  return 1;
}

// One entry for both front ends: headless `dsv4 run` and the interactive `dsv4 [PROMPT]`.
int run_agent(const std::vector<std::string>& command_line, bool interactive) {
  // Options from the config files come first, so that the command line's win.
  std::filesystem::path config_root = ".";
  for (size_t i = 0; i + 1 < command_line.size(); ++i)
    if (command_line[i] == "--root") config_root = command_line[i + 1];
  ConfigArgs from_files;
  try {
    from_files = config_args(user_config_file(), config_root / ".dsv4/config.json", command_line);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  for (const std::string& note : from_files.notes) std::cerr << "dsv4: note: " << note << "\n";
  std::vector<std::string> args = from_files.args;
  args.insert(args.end(), command_line.begin(), command_line.end());
  // A bad option from a file is reported as coming from there.
  auto usage_error_at = [&](size_t i, const std::string& message) {
    return usage_error(i < from_files.args.size() ? "in the agent options of a config file: " + message
                                                  : message);
  };
  std::string task, base_url, provider_name = "deepseek", model = "deepseek-v4-flash", fallback,
                              key_env = "DEEPSEEK_API_KEY", root = ".", session_file, resume_file,
                              model_dir;
  std::optional<std::filesystem::path> tokenizer_dir;
  bool json_out = false, events_out = false, stream = true;
  LoopOptions options;
  options.context_tokens = 1 << 20;
  // A person at the terminal is asked before edits and commands; headless runs edit freely.
  if (interactive) options.approval = Approval::ask;
  OpenAiConfig config;
  LocalConfig local;
  sandbox::SandboxFlags sandbox_flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    try {
      if (sandbox::parse_sandbox_flag(args, i, sandbox_flags)) continue;
      auto value = [&]() -> const std::string& {
        if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
        return args[++i];
      };
      auto number = [&]() {
        const std::string& v = value();
        size_t used = 0;
        long n = std::stol(v, &used);
        if (used != v.size() || n < 0)
          throw std::invalid_argument(a + " needs a number, not '" + v + "'");
        return n;
      };
      if (a == "--help" || a == "-h") {
        std::cout << kUsage << sandbox::kSandboxFlagsHelp;
        return 0;
      } else if (a == "--json")
        json_out = true;
      else if (a == "--events")
        events_out = true;
      else if (a == "--no-stream")
        stream = false;
      else if (a == "--strict-tools")
        config.strict_tools = true;
      else if (a == "--json-answer")
        config.json_output = true;
      else if (a == "--base-url")
        base_url = value();
      else if (a == "--provider")
        provider_name = value();
      else if (a == "--model-name")
        model = value();
      else if (a == "--fallback-model")
        fallback = value();
      else if (a == "--api-key-env")
        key_env = value();
      else if (a == "--root")
        root = value();
      else if (a == "--session")
        session_file = value();
      else if (a == "--resume")
        resume_file = value();
      else if (a == "--thinking")
        options.thinking = parse_thinking(value());
      else if (a == "--approve")
        options.approval = parse_approval(value());
      else if (a == "--max-steps")
        options.max_steps = static_cast<int>(number());
      else if (a == "--max-total-tokens")
        options.max_total_tokens = number();
      else if (a == "--max-tokens")
        options.max_tokens = static_cast<int>(number());
      else if (a == "--context-tokens")
        options.context_tokens = number();
      else if (a == "--tokenizer")
        tokenizer_dir = value();
      else if (a == "--max-seconds")
        options.max_wall = std::chrono::seconds{number()};
      else if (a == "--max-cost") {
        const std::string& v = value();
        size_t used = 0;
        options.max_cost_usd = std::stod(v, &used);
        if (used != v.size() || options.max_cost_usd < 0)
          throw std::invalid_argument("--max-cost needs an amount in USD, not '" + v + "'");
      } else if (a == "--max-attempts")
        config.max_attempts = std::max(1, static_cast<int>(number()));
      else if (a == "--retry-base-ms")
        config.backoff_base = std::chrono::milliseconds{number()};
      else if (a == "--model")
        model_dir = value();
      else if (a == "--temperature") {
        const std::string& v = value();
        size_t used = 0;
        local.sampling.temperature = std::stof(v, &used);
        if (used != v.size() || local.sampling.temperature < 0)
          throw std::invalid_argument("--temperature needs a number >= 0, not '" + v + "'");
      } else if (a == "--threads")
        local.threads = static_cast<int>(number());
      else if (a.starts_with("--"))
        return usage_error_at(i, "unknown option '" + a + "'");
      else
        task += (task.empty() ? "" : " ") + a;
    } catch (const std::invalid_argument& e) {
      return usage_error_at(i, e.what());
    } catch (const std::out_of_range&) {
      return usage_error_at(i, a + ": number out of range");
    }
  }
  if (!interactive && task.empty() && resume_file.empty()) return usage_error("no task given");
  // A local model counts with its own tokenizer.
  if (!tokenizer_dir && !model_dir.empty()) tokenizer_dir = model_dir;
  const TokenCounter counter(tokenizer_dir);
  options.counter = &counter;
  const char* key = std::getenv(key_env.c_str());
  if (!model_dir.empty()) {
    if (!base_url.empty()) return usage_error("give either --model DIR or --base-url URL, not both");
    model = "local:" + model_dir;
  } else if (base_url.empty()) {
    if (!key || !*key) {
      std::cerr << "dsv4: no model configured. Use one of:\n"
                << "  export " << key_env
                << "=sk-...          the DeepSeek API (deepseek-v4-flash, thinking high)\n"
                << "  --model DIR                          a local V4 checkpoint folder (Hugging Face format)\n"
                << "  --base-url URL --provider vllm --model-name M\n"
                << "                                       an OpenAI-compatible server (vLLM, SGLang)\n";
      return 2;
    }
    base_url = default_base_url(provider_name);
  }
  if (!model_dir.empty()) provider_name = "local";  // for the session record
  config.base_url = base_url;
  config.api_key = key ? key : "";
  config.api_key_name = key_env;
  config.fallback_model = fallback;
  config.stream = stream;
  config.cancel = &g_interrupted;
  if (std::string note = apply_model_alias(model, options.thinking); !note.empty())
    std::cerr << note << "\n";
  config.model = model;
  options.prices = model_dir.empty() ? default_prices(model) : Prices{};  // local runs cost nothing
  options.interrupt = &g_interrupted;
  // Loaded before the session starts, so that a model that does not load leaves nothing behind.
  std::unique_ptr<ModelClient> client;
  if (model_dir.empty()) {
    try {
      client = make_remote_client(provider_name, config);
    } catch (const std::invalid_argument& e) {
      return usage_error(e.what());
    }
  } else {
    local.model_dir = model_dir;
    local.cancel = &g_interrupted;
    try {
      client = std::make_unique<LocalClient>(local);
    } catch (const std::exception& e) {
      std::cerr << "dsv4 run: cannot load the local model: " << e.what() << "\n";
      return 1;
    }
  }

  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);

  sandbox::Policy policy = sandbox::load_policy(root, sandbox_flags);
  sandbox::Workspace workspace{std::filesystem::path(root), policy};
  if (auto warning = sandbox::policy_warning(policy); !warning.empty())
    std::cerr << warning << "\n";

  std::vector<Message> history;
  std::filesystem::path session_path;
  if (!resume_file.empty()) {
    LoadedSession loaded = load_session(resume_file);
    if (loaded.torn_tail) std::cerr << "note: the session's last line was cut off and is skipped\n";
    history = std::move(loaded.messages);
    session_path = resume_file;
  } else {
    session_path =
        session_file.empty() ? default_session_path() : std::filesystem::path(session_file);
  }
  SessionWriter session(session_path);
  Terminal terminal(std::cin, std::cout, std::cerr, ::isatty(STDERR_FILENO) != 0);
  if (interactive) options.ask = [&](const ToolCall& call) { return terminal.approve(call); };
  // For a person: the interactive front end shows every event; a plain run only its notes
  // (the answer is printed at the end).
  auto print_event = [&](const Json& event) {
    if (events_out) {
      std::cout << event.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n" << std::flush;
      return;
    }
    const std::string type = event.value("type", "");
    if (interactive || type == "notice" || type == "compaction") terminal.show(event);
  };

  auto start = [&](const Message& m) {
    history.push_back(m);
    session.append_message(m);
    print_event({{"type", "message"}, {"message", message_to_json(m)}});
  };
  session.append({{"type", "run"},
                  {"model", model},
                  {"provider", provider_name},
                  {"base_url", base_url},
                  {"thinking", thinking_name(options.thinking)},
                  {"approval", approval_name(options.approval)},
                  {"root", workspace.root().string()}});
  if (history.empty()) start(system_message(system_prompt()));
  // JSON output needs the prompt to ask for JSON; the task is where that belongs.
  if (config.json_output && !task.empty()) task += "\n\nGive the final answer as one JSON object.";
  if (!task.empty()) start(user_message(task));

  // The patch is a report, not the job: without it the run still goes on.
  auto snapshot = [&]() -> std::optional<std::string> {
    try {
      return snapshot_tree(workspace.root());
    } catch (const std::exception& e) {
      std::cerr << "dsv4 run: note: no patch in the report: " << e.what() << "\n";
      return std::nullopt;
    }
  };
  std::optional<std::string> before = snapshot();
  if (interactive && task.empty() && history.size() <= 1) {
    std::optional<std::string> first = terminal.prompt();
    if (!first) return 0;
    start(user_message(*first));
  }
  AgentLoop loop(*client, workspace, options, &session, print_event);
  LoopResult result = loop.run(history);
  // Interactive: each prompt is one run of the loop; Ctrl-C ends the run, not the session.
  while (interactive) {
    char line[160];
    std::snprintf(line, sizeof line, "[%s: %d steps, %d tool calls, %ld tokens in, %ld out]\n",
                  std::string(status_name(result.status)).c_str(), result.steps,
                  result.tool_calls, result.usage.input, result.usage.output);
    std::cerr << line;
    if (!result.error.empty()) std::cerr << "dsv4: " << result.error << "\n";
    std::optional<std::string> next = terminal.prompt();
    if (!next) break;
    g_interrupted.store(false);
    start(user_message(*next));
    LoopResult more = loop.run(history);
    more.usage += result.usage;
    more.steps += result.steps;
    more.tool_calls += result.tool_calls;
    result = std::move(more);
  }

  Json patch = nullptr;
  if (before) {
    if (auto after = snapshot()) patch = diff_trees(workspace.root(), *before, *after);
  }
  const double cost = cost_usd(options.prices, result.usage);
  Json summary = {
      {"status", status_name(result.status)},
      {"answer", result.answer},
      {"steps", result.steps},
      {"tool_calls", result.tool_calls},
      {"usage",
       {{"input", result.usage.input},
        {"cache_hit", result.usage.cache_hit},
        {"cache_miss", result.usage.cache_miss},
        {"output", result.usage.output}}},
      {"cache_hit_ratio", result.usage.input > 0
                              ? static_cast<double>(result.usage.cache_hit) / result.usage.input
                              : 0.0},
      {"cost_usd", cost},
      {"patch", patch},
      {"session", session_path.string()}};
  if (!result.error.empty()) summary["error"] = result.error;
  session.append({{"type", "end"}, {"result", summary}});
  print_event({{"type", "end"}, {"result", summary}});
  if (json_out) {
    std::cout << summary.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else if (!events_out) {
    if (!result.answer.empty() && !interactive) std::cout << result.answer << "\n";
    char line[200];
    std::snprintf(line, sizeof line,
                  "%d steps, %d tool calls; tokens: %ld in (%.0f%% cache hits), %ld out; $%.4f\n",
                  result.steps, result.tool_calls, result.usage.input,
                  100.0 * summary["cache_hit_ratio"].get<double>(), result.usage.output, cost);
    std::cerr << line;
    if (interactive) std::cerr << "session: " << session_path.string() << " (--resume it)\n";
  }
  if (!result.error.empty() && !interactive)
    std::cerr << "dsv4 run: " << status_name(result.status) << ": " << result.error << "\n";
  return exit_code(result.status);
}

}  // namespace

int run_command(const std::vector<std::string>& args) { return run_agent(args, false); }

int interactive_command(const std::vector<std::string>& args) { return run_agent(args, true); }

}  // namespace dsv4::agent
