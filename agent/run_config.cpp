#include "agent/run_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace dsv4::agent {

using Json = nlohmann::json;

namespace {

// What a repository's own config may set: how hard the agent works, never where it sends.
constexpr const char* kRepositoryOptions[] = {"thinking",   "max-steps",      "max-tokens",
                                              "max-seconds", "context-tokens", "max-total-tokens",
                                              "max-cost"};
// Options that choose the model and its server; the command line's choice replaces them all.
constexpr const char* kModelOptions[] = {"model", "base-url", "provider", "model-name",
                                         "api-key-env"};

bool contains(const auto& list, const std::string& name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool given(const std::vector<std::string>& command_line, const std::string& option) {
  return contains(command_line, "--" + option);
}

Json read_agent_object(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Json::object();
  Json doc = Json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw std::invalid_argument(file.string() + ": not a JSON object");
  Json agent = doc.value("agent", Json::object());
  if (!agent.is_object())
    throw std::invalid_argument(file.string() + ": \"agent\" must be an object of options");
  return agent;
}

}  // namespace

std::filesystem::path user_config_file() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "dsv4/config.json";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/") / ".config/dsv4/config.json";
}

ConfigArgs config_args(const std::filesystem::path& user_file,
                       const std::filesystem::path& repository_file,
                       const std::vector<std::string>& command_line) {
  ConfigArgs out;
  const bool model_chosen = given(command_line, "model") || given(command_line, "base-url");
  auto add = [&](const std::filesystem::path& file, bool repository) {
    const Json options = read_agent_object(file);
    for (auto& [key, value] : options.items()) {
      std::string name = key;
      std::replace(name.begin(), name.end(), '_', '-');
      const std::string where = file.string() + ": agent." + key;
      if (repository && !contains(kRepositoryOptions, name)) {
        out.notes.push_back(where + " ignored: a repository's config may set only thinking and "
                                    "budgets; put it in " + user_config_file().string());
        continue;
      }
      if (given(command_line, name) || (model_chosen && contains(kModelOptions, name))) continue;
      if (value.is_boolean()) {
        if (value.get<bool>()) out.args.push_back("--" + name);
      } else if (value.is_string()) {
        out.args.insert(out.args.end(), {"--" + name, value.get<std::string>()});
      } else if (value.is_number()) {
        out.args.insert(out.args.end(), {"--" + name, value.dump()});
      } else {
        throw std::invalid_argument(where + ": expected a string, a number or true/false");
      }
    }
  };
  add(user_file, false);
  add(repository_file, true);
  return out;
}

}  // namespace dsv4::agent
