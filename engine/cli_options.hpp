#pragma once
// Flags of the engine's commands (logits, model synth, generate, bench engine): `--flag value`
// pairs, value-less switches and --help, with one wording for every mistake.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace dsv4::engine {

// A mistake in the command line: the command prints it with its usage and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every flag with its values in order (a flag may repeat); switches get "". Throws UsageError
// for an unknown flag or a flag without its value; --help and -h set `help`.
std::multimap<std::string, std::string> parse_flags(const std::vector<std::string>& args, const std::vector<std::string>& flags,
                                                    const std::vector<std::string>& switches, bool& help);
// The same, keeping the last value of a repeated flag.
std::map<std::string, std::string> parse_single_flags(const std::vector<std::string>& args, const std::vector<std::string>& flags,
                                                      bool& help);

long parse_count(const std::string& flag, const std::string& value);    // a non-negative integer
float parse_number(const std::string& flag, const std::string& value);  // a finite number

}  // namespace dsv4::engine
