#include "sandbox/policy.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace dsv4::sandbox {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr std::string_view kModeNames[] = {"read-only", "workspace-write", "full-access"};

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw std::invalid_argument("sandbox config: '" + key + "' " + what);
}

std::vector<std::string> string_list(const Json& v, const std::string& key) {
  if (!v.is_array()) bad(key, "must be an array of path strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string() || e.get<std::string>().empty()) bad(key, "must hold non-empty strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::uint64_t count(const Json& v, const std::string& key, std::uint64_t scale) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<long long>() >= 0))
    bad(key, "must be a whole number >= 0 (0 = no limit)");
  return v.get<std::uint64_t>() * scale;
}

bool loosens_limit(std::uint64_t now, std::uint64_t next) {
  return now != 0 && (next == 0 || next > now);
}

// A repository may narrow what commands may do, never widen it.
void refuse_loosening(const std::string& key) {
  throw std::invalid_argument("sandbox config: '" + key +
                              "' would loosen the sandbox, which a repository's "
                              ".dsv4/config.json may not do [sandbox rule: "
                              "repository-config-only-tightens]; set it in your user config "
                              "or on the command line");
}

}  // namespace

std::string_view mode_name(Mode mode) { return kModeNames[static_cast<int>(mode)]; }

std::optional<Mode> parse_mode(std::string_view name) {
  for (int i = 0; i < 3; ++i)
    if (kModeNames[i] == name) return static_cast<Mode>(i);
  return std::nullopt;
}

fs::path expand_home(std::string_view path) {
  if (path == "~" || path.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/") / std::string(path.substr(path == "~" ? 1 : 2));
  }
  return fs::path(path);
}

std::string policy_warning(const Policy& p) {
  if (p.mode == Mode::full_access)
    return "dsv4: WARNING: sandbox mode full-access: commands and file tools run with your "
           "full rights, outside any isolation";
  if (!p.isolate_commands)
    return "dsv4: WARNING: --no-sandbox: commands run without isolation (no namespaces, no "
           "limits); file tools stay confined to the workspace";
  if (p.network) return "dsv4: note: sandboxed commands may use the network (--allow-network)";
  return "";
}

void apply_config(Policy& p, std::string_view json_text, ConfigSource source) {
  Json doc = Json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) throw std::invalid_argument("sandbox config: not valid JSON");
  if (!doc.is_object()) throw std::invalid_argument("sandbox config: must be a JSON object");
  const Json& s = doc.contains("sandbox") ? doc["sandbox"] : doc;
  if (!s.is_object()) bad("sandbox", "must be an object");
  const bool repo = source == ConfigSource::repository;
  for (const auto& [key, v] : s.items()) {
    if (key == "mode") {
      auto m = v.is_string() ? parse_mode(v.get<std::string>()) : std::nullopt;
      if (!m) bad(key, "must be \"read-only\", \"workspace-write\" or \"full-access\"");
      if (repo && *m > p.mode) refuse_loosening(key);
      p.mode = *m;
    } else if (key == "network") {
      bool on;
      if (v.is_boolean()) on = v.get<bool>();
      else if (v == "on" || v == "off") on = v == "on";
      else bad(key, "must be true/false or \"on\"/\"off\"");
      if (repo && on && !p.network) refuse_loosening(key);
      p.network = on;
    } else if (key == "readable" || key == "writable") {
      auto list = string_list(v, key);
      if (repo && !list.empty()) refuse_loosening(key);
      auto& dst = key == "readable" ? p.readable : p.writable;
      dst.insert(dst.end(), list.begin(), list.end());
    } else if (key == "protected" || key == "hidden") {
      auto list = string_list(v, key);
      auto& dst = key == "protected" ? p.protected_paths : p.hidden;
      // Replacing the defaults would drop protection; a repository can only add.
      if (repo) dst.insert(dst.end(), list.begin(), list.end());
      else dst = list;
    } else if (key == "limits") {
      if (!v.is_object()) bad(key, "must be an object");
      for (const auto& [lk, lv] : v.items()) {
        struct Field { const char* name; std::uint64_t Limits::*member; std::uint64_t scale; };
        static const Field fields[] = {
            {"cpu_seconds", &Limits::cpu_seconds, 1},
            {"memory_mb", &Limits::memory_bytes, 1 << 20},
            {"processes", &Limits::processes, 1},
            {"file_size_mb", &Limits::file_size_bytes, 1 << 20},
            {"wall_seconds", &Limits::wall_seconds, 1},
        };
        const Field* f = nullptr;
        for (const auto& candidate : fields)
          if (lk == candidate.name) f = &candidate;
        if (!f) bad("limits." + lk, "is not a known limit (cpu_seconds, memory_mb, processes, "
                                     "file_size_mb, wall_seconds)");
        auto next = count(lv, "limits." + lk, f->scale);
        if (repo && loosens_limit(p.limits.*(f->member), next)) refuse_loosening("limits." + lk);
        p.limits.*(f->member) = next;
      }
    } else {
      bad(key, "is not a sandbox setting (mode, network, readable, writable, protected, "
               "hidden, limits)");
    }
  }
}

const char* const kSandboxFlagsHelp =
    "  --sandbox MODE     read-only | workspace-write (default) | full-access\n"
    "  --no-sandbox       run commands without isolation (when this machine has none)\n"
    "  --allow-network    let sandboxed commands use the network\n";

bool parse_sandbox_flag(const std::vector<std::string>& args, std::size_t& i, SandboxFlags& f) {
  const std::string& a = args[i];
  if (a == "--no-sandbox") {
    f.no_sandbox = true;
  } else if (a == "--allow-network") {
    f.allow_network = true;
  } else if (a == "--sandbox") {
    if (i + 1 >= args.size())
      throw std::invalid_argument("--sandbox needs a mode: read-only, workspace-write or "
                                  "full-access");
    f.mode = parse_mode(args[++i]);
    if (!f.mode)
      throw std::invalid_argument("--sandbox '" + args[i] +
                                  "' is not a mode; use read-only, workspace-write or "
                                  "full-access");
  } else {
    return false;
  }
  return true;
}

namespace {

void apply_config_file(Policy& p, const fs::path& file, ConfigSource source) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw std::invalid_argument(file.string() + ": not a JSON object");
  if (!doc.contains("sandbox")) return;
  try {
    apply_config(p, doc["sandbox"].dump(), source);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(file.string() + ": " + e.what());
  }
}

}  // namespace

Policy load_policy(const fs::path& root, const SandboxFlags& flags) {
  Policy p;
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  auto user_dir = xdg && *xdg ? fs::path(xdg) : expand_home("~/.config");
  apply_config_file(p, user_dir / "dsv4/config.json", ConfigSource::user);
  apply_config_file(p, root / ".dsv4/config.json", ConfigSource::repository);
  if (flags.mode) p.mode = *flags.mode;
  if (flags.no_sandbox) p.isolate_commands = false;
  if (flags.allow_network) p.network = true;
  return p;
}

std::string policy_to_json(const Policy& p, const fs::path& root) {
  auto expanded = [](const std::vector<std::string>& list) {
    Json out = Json::array();
    for (const auto& s : list) out.push_back(expand_home(s).lexically_normal().string());
    return out;
  };
  Json j{{"root", root.string()},
         {"mode", mode_name(p.mode)},
         {"network", p.network},
         {"isolate_commands", p.isolate_commands},
         {"readable", expanded(p.readable)},
         {"writable", expanded(p.writable)},
         {"protected", p.protected_paths},
         {"hidden", expanded(p.hidden)},
         {"limits",
          {{"cpu_seconds", p.limits.cpu_seconds},
           {"memory_bytes", p.limits.memory_bytes},
           {"processes", p.limits.processes},
           {"file_size_bytes", p.limits.file_size_bytes},
           {"wall_seconds", p.limits.wall_seconds}}}};
  return j.dump();
}

Policy policy_from_json(std::string_view json_text, fs::path& root) {
  Json j = Json::parse(json_text);
  Policy p;
  root = j.at("root").get<std::string>();
  auto m = parse_mode(j.at("mode").get<std::string>());
  if (!m) throw std::invalid_argument("policy: unknown mode");
  p.mode = *m;
  p.network = j.at("network").get<bool>();
  p.isolate_commands = j.at("isolate_commands").get<bool>();
  p.readable = j.at("readable").get<std::vector<std::string>>();
  p.writable = j.at("writable").get<std::vector<std::string>>();
  p.protected_paths = j.at("protected").get<std::vector<std::string>>();
  p.hidden = j.at("hidden").get<std::vector<std::string>>();
  const Json& l = j.at("limits");
  p.limits.cpu_seconds = l.at("cpu_seconds").get<std::uint64_t>();
  p.limits.memory_bytes = l.at("memory_bytes").get<std::uint64_t>();
  p.limits.processes = l.at("processes").get<std::uint64_t>();
  p.limits.file_size_bytes = l.at("file_size_bytes").get<std::uint64_t>();
  p.limits.wall_seconds = l.at("wall_seconds").get<std::uint64_t>();
  return p;
}

}  // namespace dsv4::sandbox
