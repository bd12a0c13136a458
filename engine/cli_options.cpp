#include "engine/cli_options.hpp"

#include <algorithm>
#include <cmath>

namespace dsv4::engine {

std::multimap<std::string, std::string> parse_flags(const std::vector<std::string>& args, const std::vector<std::string>& flags,
                                                    const std::vector<std::string>& switches, bool& help) {
  std::multimap<std::string, std::string> o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      help = true;
      continue;
    }
    if (std::find(switches.begin(), switches.end(), args[i]) != switches.end()) {
      o.emplace(args[i], "");
      continue;
    }
    if (std::find(flags.begin(), flags.end(), args[i]) == flags.end()) throw UsageError("unexpected argument '" + args[i] + "'");
    if (i + 1 >= args.size()) throw UsageError(args[i] + " needs a value");
    o.emplace(args[i], args[i + 1]);
    ++i;
  }
  return o;
}

std::map<std::string, std::string> parse_single_flags(const std::vector<std::string>& args, const std::vector<std::string>& flags,
                                                      bool& help) {
  std::map<std::string, std::string> o;
  for (const auto& [flag, value] : parse_flags(args, flags, {}, help)) o[flag] = value;  // equal keys come in order
  return o;
}

long parse_count(const std::string& flag, const std::string& value) {
  size_t used = 0;
  long n = -1;
  try {
    n = std::stol(value, &used);
  } catch (const std::exception&) {
  }
  if (used != value.size() || n < 0) throw UsageError(flag + " needs a non-negative integer, got '" + value + "'");
  return n;
}

float parse_number(const std::string& flag, const std::string& value) {
  size_t used = 0;
  float x = NAN;
  try {
    x = std::stof(value, &used);
  } catch (const std::exception&) {
  }
  if (used != value.size() || !std::isfinite(x)) throw UsageError(flag + " needs a number, got '" + value + "'");
  return x;
}

}  // namespace dsv4::engine
