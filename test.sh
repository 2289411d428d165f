#!/usr/bin/env bash
# Runs every test of the solution and prints the totals as the last line:
#   tests: N passed, N failed, N skipped
# Servers that some tests need are installed and started by the scripts in eng/servers (one per server, see its
# README) before the tests, and stopped when this script ends.
set -uo pipefail
cd "$(dirname "$0")"

results=TestResults
rm -rf "$results"
mkdir -p "$results"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Servers: each eng/servers/NAME.sh defines start_NAME and stop_NAME and exports what the tests read.
source eng/servers.sh
# The fault harness appends one row per scenario here (eng/faults.sh turns a longer run into docs/reliability.md).
export TYPEDJOBS_FAULTS_REPORT="$PWD/$results/faults.md"

status=0
dotnet build TypedJobs.sln -c Release -warnaserror -nologo -v minimal || { echo "build failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
# --blame: should a test process crash, the output names the tests it was running.
dotnet test TypedJobs.sln -c Release --no-build --blame --logger "trx" --results-directory "$results" -- RunConfiguration.TestSessionTimeout=3000000 || status=$?
report_servers

passed=0; failed=0; skipped=0; total=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  t=$(get total); p=$(get passed); f=$(get failed); e=$(get error); x=$(get timeout); a=$(get aborted)
  total=$((total + ${t:-0}))
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0} + ${a:-0}))
done
skipped=$((total - passed - failed))

# Gates that are programs rather than xUnit tests: each "<gate>: <check> passed|failed" line counts as one test.
if [ "${SKIP_AOT_GATE:-0}" != 1 ]; then
  gate_log="$results/aot-gate.log"
  bash eng/aot-gate.sh 2>&1 | tee "$gate_log"
  gate_passed=$(grep -cE '^aot-gate: .* passed$' "$gate_log")
  gate_failed=$(grep -cE '^aot-gate: .* failed$' "$gate_log")
  if [ "$gate_passed" -eq 0 ] && [ "$gate_failed" -eq 0 ]; then gate_failed=1; fi
  passed=$((passed + gate_passed)); failed=$((failed + gate_failed)); total=$((total + gate_passed + gate_failed))
fi
if [ "$total" -eq 0 ]; then
  echo "no test results were found"
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
