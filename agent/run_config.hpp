#pragma once
// Defaults for `dsv4 run` and the interactive agent from config files: the "agent" object of
// $XDG_CONFIG_HOME/dsv4/config.json (any option, named without its dashes) and of the
// repository's .dsv4/config.json (only options that cannot send code or keys elsewhere: a
// cloned repository must not pick the model server that receives your API key).
#include <filesystem>
#include <string>
#include <vector>

namespace dsv4::agent {

struct ConfigArgs {
  std::vector<std::string> args;   // as command-line options, to be parsed before the real ones
  std::vector<std::string> notes;  // what was ignored, and why
};

// `command_line` decides what the files may add: an option given there wins, and a model
// chosen there (--model or --base-url) drops the files' choice of model and server.
// Throws std::invalid_argument naming the file and key when a file is malformed.
ConfigArgs config_args(const std::filesystem::path& user_file,
                       const std::filesystem::path& repository_file,
                       const std::vector<std::string>& command_line);

// $XDG_CONFIG_HOME/dsv4/config.json, or ~/.config/dsv4/config.json.
std::filesystem::path user_config_file();

}  // namespace dsv4::agent
