#!/usr/bin/env bash
# Native AOT gate: publishes the AOT test apps for linux-x64 (net8.0; see README "Native AOT"), fails on any
# trim or AOT warning (IL2xxx/IL3xxx), runs the binaries and checks their jobs ran. Prints one line per check:
#   aot-gate: <check> passed|failed
# and exits non-zero when any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${AOT_OUT:-$(mktemp -d /tmp/typedjobs-aot.XXXXXX)}
failures=0
report() { echo "aot-gate: $1 $2"; [ "$2" = passed ] || failures=$((failures + 1)); }

publish() { # name project
  local name=$1 project=$2 log="$out/$1.publish.log"
  dotnet publish "$project" -c Release -r linux-x64 -o "$out/$name" -nologo -p:TreatWarningsAsErrors=false >"$log" 2>&1
  local status=$?
  local warnings
  warnings=$(grep -oE 'warning IL[23][0-9]{3}[^[]*' "$log" | sort -u)
  local count=0
  [ -n "$warnings" ] && count=$(printf '%s\n' "$warnings" | wc -l)
  echo "aot-gate: $name: $count trim/AOT warnings"
  [ "$count" -gt 0 ] && printf '%s\n' "$warnings" | head -50
  if [ $status -ne 0 ]; then
    tail -30 "$log"
    report "$name-publish" failed
    return 1
  fi
  if [ "$count" -eq 0 ]; then report "$name-publish" passed; else report "$name-publish" failed; fi
}

if publish api-roots tests/TypedJobs.AotTests/TypedJobs.AotTests.csproj; then
  if "$out/api-roots/TypedJobs.AotTests"; then report api-roots-run passed; else report api-roots-run failed; fi
fi

[ -z "${AOT_OUT:-}" ] && rm -rf "$out"
exit $failures
