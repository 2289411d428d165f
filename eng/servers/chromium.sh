# Chromium for the dashboard's browser tests (tests/TypedJobs.Dashboard.Tests, driven by Microsoft.Playwright).
# Debian's package is used as it is: Playwright's own browser download is never run. Exports TYPEDJOBS_TEST_CHROMIUM,
# the executable the tests launch headless.
start_chromium() {
  local exe
  exe=$(command -v chromium || true)
  if [ -z "$exe" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      echo "servers: installing chromium (apt-get)"
      { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } >/dev/null 2>&1
      exe=$(command -v chromium || true)
    fi
  fi
  [ -n "$exe" ] || { echo "servers: chromium is not installed (apt-get install -y chromium)"; return 1; }
  # A browser that cannot start headless here is as missing as no browser.
  timeout 120 "$exe" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1 || { echo "servers: $exe does not start headless"; return 1; }
  export TYPEDJOBS_TEST_CHROMIUM="$exe"
}

stop_chromium() {
  # Nothing runs between the tests: each test launches and closes its own browser.
  :
}
