#!/usr/bin/env bash
# The long Native AOT gate: the checks of eng/aot-gate.sh for net10.0 and for net8.0 (end of life since 2026-11-10,
# still a library target). Per-commit CI (./test.sh) publishes net10.0 only; run this before a release.
set -uo pipefail
AOT_FRAMEWORKS="net10.0 net8.0" exec bash "$(dirname "$0")/aot-gate.sh" "$@"
