#!/usr/bin/env bash
# Chromium for the dashboard's browser tests (tests/TypedJobs.Dashboard.Tests, driven by Microsoft.Playwright; sourced
# by ./test.sh, see README.md here):
#   start_chromium  installs Debian's chromium when it is missing (Playwright's own browser download is never used),
#                   checks that it starts headless, and exports
#                     TYPEDJOBS_TEST_CHROMIUM  the executable the tests launch
#   stop_chromium   nothing to stop: each test class launches and closes its own browser; harmless when called twice.

start_chromium() {
  local exe
  exe=$(command -v chromium || true)
  if [ -z "$exe" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "servers: installing chromium (apt-get)"
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium || \
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }) >/dev/null 2>&1
    exe=$(command -v chromium || true)
  fi
  [ -n "$exe" ] || { echo "servers: chromium is not installed (apt-get install -y chromium)"; return 1; }
  # A browser that cannot start headless here is as missing as no browser.
  timeout 120 "$exe" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1 \
    || { echo "servers: $exe does not start headless"; return 1; }
  export TYPEDJOBS_TEST_CHROMIUM="$exe"
}

stop_chromium() {
  :
}
