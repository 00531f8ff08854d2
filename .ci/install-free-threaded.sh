#!/usr/bin/env bash
# The old name: .ci/install-pythons.sh installs the free-threaded 3.13 and 3.14, 3.15.
set -euo pipefail
exec bash "$(dirname "$0")/install-pythons.sh" "$@"
