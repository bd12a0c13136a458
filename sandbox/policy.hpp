#pragma once
// What the sandbox allows: one Policy for in-process file access and for commands.
// Isolation (this file) is separate from approval (what the user is asked about).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::sandbox {

enum class Mode {
  read_only,        // nothing in the workspace may change
  workspace_write,  // the workspace (minus protected paths) and `writable` may change
  full_access,      // no isolation at all: explicit opt-in, always announced loudly
};

std::string_view mode_name(Mode mode);
// "read-only", "workspace-write" or "full-access"; nullopt otherwise.
std::optional<Mode> parse_mode(std::string_view name);

// Resource limits of one command (0 = no limit of that kind).
struct Limits {
  std::uint64_t cpu_seconds = 600;
  std::uint64_t memory_bytes = std::uint64_t{8} << 30;  // address space per process
  std::uint64_t processes = 1024;                       // processes of the sandbox together
  std::uint64_t file_size_bytes = std::uint64_t{4} << 30;
  std::uint64_t wall_seconds = 3600;
};

struct Policy {
  Mode mode = Mode::workspace_write;
  bool network = false;
  // false (--no-sandbox): commands run without isolation; the in-process rules stay.
  bool isolate_commands = true;
  // Absolute paths (or "~/..."). Everything outside the workspace is read-only to
  // commands anyway; `readable` brings back paths that are otherwise hidden (the private
  // /tmp, `hidden`), `writable` makes paths outside the workspace writable.
  std::vector<std::string> readable;
  std::vector<std::string> writable;
  // Root-relative paths that stay read-only in every mode but full-access, even where
  // they are missing (they are then created empty so that they can be protected).
  std::vector<std::string> protected_paths = {".git/hooks/", ".git/config", ".dsv4/"};
  // Paths outside the workspace that commands cannot see at all.
  std::vector<std::string> hidden = {"~/.ssh",         "~/.gnupg",           "~/.aws",
                                     "~/.netrc",       "~/.git-credentials", "~/.docker",
                                     "~/.config/dsv4", "~/.config/gh",       "~/.kube"};
  Limits limits;

  // True when commands run without namespaces (full-access or --no-sandbox).
  bool commands_unisolated() const { return mode == Mode::full_access || !isolate_commands; }
};

// The loud one-line note a front end prints on stderr when the policy lowers the
// protection (full-access, --no-sandbox, network on); "" otherwise.
std::string policy_warning(const Policy& policy);

// Who wrote a configuration: a repository may only tighten the policy (a cloned
// repository must not be able to switch its own sandbox off); the user may do anything.
enum class ConfigSource { user, repository };

// Applies {"sandbox": {...}} (or the inner object) on top of `policy`. Keys: mode,
// network (bool or "on"/"off"), readable, writable, protected, hidden, limits
// {cpu_seconds, memory_mb, processes, file_size_mb, wall_seconds}. Throws
// std::invalid_argument naming the key and the rule on bad or refused input.
void apply_config(Policy& policy, std::string_view json_text, ConfigSource source);

// The sandbox flags of a front end's command line.
struct SandboxFlags {
  std::optional<Mode> mode;    // --sandbox MODE
  bool no_sandbox = false;     // --no-sandbox
  bool allow_network = false;  // --allow-network
};

// Consumes one sandbox flag at args[i], leaving i on its last word (the value of
// --sandbox), as a for loop over the arguments expects. False when args[i] is not one
// of them. Throws std::invalid_argument on a bad or missing mode.
bool parse_sandbox_flag(const std::vector<std::string>& args, std::size_t& i, SandboxFlags& flags);

// The policy for a workspace: the defaults, then the user's config
// ($XDG_CONFIG_HOME/dsv4/config.json, else ~/.config/dsv4/config.json), then the
// repository's <root>/.dsv4/config.json (which may only tighten), then the flags.
// Only the "sandbox" object of those files is read. Throws std::invalid_argument naming
// the file on bad content.
Policy load_policy(const std::filesystem::path& root, const SandboxFlags& flags);
extern const char* const kSandboxFlagsHelp;

// The policy as JSON for the launcher (`dsv4 sandbox exec --policy JSON`), with the
// workspace root; and back. The root is absolute; paths are expanded.
std::string policy_to_json(const Policy& policy, const std::filesystem::path& root);
Policy policy_from_json(std::string_view json_text, std::filesystem::path& root);

// "~/x" against $HOME; other paths unchanged.
std::filesystem::path expand_home(std::string_view path);

}  // namespace dsv4::sandbox
