#include "tools/shell_env.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace dsv4::tools {
namespace {

// The scrubbing rule, compared without regard to case. A name is a secret when it
//   - is one of kSecretWords or ends in "_" + one of them (DEEPSEEK_API_KEY, GITHUB_TOKEN,
//     GH_TOKEN, NPM_TOKEN, HF_TOKEN, DB_PASSWORD, CLIENT_SECRET, SSH_KEY, BASIC_AUTH, ...),
//   - starts with one of kSecretPrefixes (cloud credentials: AWS_*, AZURE_*, ...),
//   - or is one of kSecretNames (handles to agents that sign or decrypt for us).
// Values are not inspected: a password inside DATABASE_URL is not recognised.
constexpr std::array<std::string_view, 12> kSecretWords = {
    "KEY",  "APIKEY",   "API_KEY", "TOKEN", "SECRET",     "SECRETS",
    "PASS", "PASSWORD", "PASSWD",  "AUTH",  "CREDENTIAL", "CREDENTIALS"};
constexpr std::array<std::string_view, 4> kSecretPrefixes = {"AWS_", "AZURE_", "GCP_", "GOOGLE_"};
constexpr std::array<std::string_view, 3> kSecretNames = {"SSH_AUTH_SOCK", "GPG_AGENT_INFO",
                                                          "KRB5CCNAME"};

// Settings that make interactive programs behave in a pipe with no terminal.
constexpr std::array<std::string_view, 9> kAdded = {
    "PAGER=cat",
    "GIT_PAGER=cat",
    "MANPAGER=cat",
    "TERM=dumb",
    "NO_COLOR=1",
    "GIT_TERMINAL_PROMPT=0",  // fail instead of asking for credentials
    "GIT_EDITOR=true",        // keep the default message instead of opening an editor
    "DEBIAN_FRONTEND=noninteractive",
    "CI=1"};  // test runners and dev tools skip watch modes and prompts

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

bool is_secret_name(std::string_view name) {
  const std::string n = upper(name);
  for (auto word : kSecretWords)
    if (n == word ||
        (n.size() > word.size() && n.ends_with(word) && n[n.size() - word.size() - 1] == '_'))
      return true;
  for (auto prefix : kSecretPrefixes)
    if (n.starts_with(prefix)) return true;
  return std::find(kSecretNames.begin(), kSecretNames.end(), n) != kSecretNames.end();
}

std::vector<std::string> shell_environment(char** environ) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto name = name_of(entry);
    bool replaced = std::any_of(kAdded.begin(), kAdded.end(),
                                [&](std::string_view a) { return name_of(a) == name; });
    if (!is_secret_name(name) && !replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), kAdded.begin(), kAdded.end());
  return env;
}

}  // namespace dsv4::tools
