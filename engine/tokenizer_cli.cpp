#include "engine/tokenizer_cli.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "engine/tokenizer.hpp"

namespace dsv4::engine {
namespace {

using Json = nlohmann::json;

constexpr const char* kTokenizeUsage =
    "usage: dsv4 tokenize --tokenizer DIR (--text T | --file F) [--add-special]\n"
    "Prints the token ids of the text (or of file F; '-' is stdin) as one JSON array.\n"
    "Added-token strings in the text become their ids. Nothing is added unless\n"
    "--add-special, which adds BOS/EOS as DIR/tokenizer_config.json asks.\n";

constexpr const char* kDetokenizeUsage =
    "usage: dsv4 detokenize --tokenizer DIR --ids JSON [--skip-special]\n"
    "Prints the text of a JSON array of token ids exactly, with no newline added.\n"
    "Bytes that do not form valid UTF-8 print as U+FFFD; ids without a token print\n"
    "nothing. --skip-special leaves out special tokens (BOS, EOS, ...).\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --name VALUE options and --flag switches, as the caller lists them.
struct Options {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  bool help = false;
};

Options parse_options(const std::vector<std::string>& args, const std::set<std::string>& valued,
                      const std::set<std::string>& switches) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (valued.count(a)) {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      o.values[a] = args[++i];
    } else if (switches.count(a)) {
      o.flags.insert(a);
    } else {
      throw UsageError("unexpected argument '" + a + "'");
    }
  }
  return o;
}

int usage_error(const char* command, const std::string& message) {
  std::cerr << "dsv4 " << command << ": " << message << " (see 'dsv4 " << command << " --help')\n";
  return 2;
}

std::string read_input_file(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read --file '" + path + "'");
  text.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) throw std::runtime_error("error while reading --file '" + path + "'");
  return text;
}

}  // namespace

int tokenize_command(const std::vector<std::string>& args) {
  Options o;
  try {
    o = parse_options(args, {"--tokenizer", "--text", "--file"}, {"--add-special"});
    if (o.help) {
      std::cout << kTokenizeUsage;
      return 0;
    }
    if (!o.values.count("--tokenizer")) throw UsageError("--tokenizer DIR is required");
    if (o.values.count("--text") == o.values.count("--file")) {
      throw UsageError("give exactly one of --text T and --file F");
    }
  } catch (const UsageError& e) {
    return usage_error("tokenize", e.what());
  }
  const std::string text = o.values.count("--text") ? o.values["--text"] : read_input_file(o.values["--file"]);
  const Tokenizer tokenizer = Tokenizer::load(o.values["--tokenizer"]);
  std::cout << Json(tokenizer.encode(text, o.flags.count("--add-special") > 0)).dump() << "\n";
  return 0;
}

int detokenize_command(const std::vector<std::string>& args) {
  Options o;
  std::vector<TokenId> ids;
  try {
    o = parse_options(args, {"--tokenizer", "--ids"}, {"--skip-special"});
    if (o.help) {
      std::cout << kDetokenizeUsage;
      return 0;
    }
    if (!o.values.count("--tokenizer")) throw UsageError("--tokenizer DIR is required");
    if (!o.values.count("--ids")) throw UsageError("--ids JSON is required");
    const Json parsed = Json::parse(o.values["--ids"], nullptr, false);
    if (!parsed.is_array()) throw UsageError("--ids is not a JSON array of token ids");
    for (size_t i = 0; i < parsed.size(); ++i) {
      const Json& id = parsed[i];
      const bool fits = id.is_number_integer() && id.get<int64_t>() >= 0 &&
                        id.get<int64_t>() <= std::numeric_limits<TokenId>::max();
      if (!fits) throw UsageError("--ids[" + std::to_string(i) + "] = " + id.dump() + " is not a token id (an integer >= 0)");
      ids.push_back(id.get<TokenId>());
    }
  } catch (const UsageError& e) {
    return usage_error("detokenize", e.what());
  }
  const Tokenizer tokenizer = Tokenizer::load(o.values["--tokenizer"]);
  std::cout << tokenizer.decode(ids, o.flags.count("--skip-special") > 0) << std::flush;
  return 0;
}

}  // namespace dsv4::engine
