#!/usr/bin/env bash
# Installs everything dsv4 needs to build and test, on Debian 12. Safe to run again:
# it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  nlohmann-json3-dev libgit2-dev libtree-sitter-dev
  libboost-dev libboost-filesystem-dev libpcre2-dev
  libcurl4-openssl-dev
  catch2 ripgrep universal-ctags nodejs npm
  libseccomp-dev python3-pytest
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The machine may carry a newer Node.js than Debian's; keep it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}")
  missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (tree-sitter grammars, test clients, reference tools), pinned by the lock.
if [[ -f package-lock.json ]] && ! cmp -s package-lock.json node_modules/.dsv4-installed-lock; then
  echo "setup: installing npm packages"
  # Only the grammars' C sources are used: no native addon builds.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.dsv4-installed-lock
fi
echo "setup: ready"
