#!/usr/bin/env bash
# Sets up, builds, then runs dsv4 with the given arguments in the current folder.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup.sh" >&2
"$here/scripts/build.sh" >&2
exec "$here/build/dsv4" "$@"
