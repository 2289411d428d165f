#!/usr/bin/env bash
# Runs the fault-injection harness (tests/TypedJobs.Faults) with more jobs and kill rounds than ./test.sh does, and
# writes docs/reliability.md from what it measured.
#   bash eng/faults.sh [scale]     scale multiplies the jobs and kill rounds of each scenario (default 3)
set -uo pipefail
cd "$(dirname "$0")/.."
scale="${1:-3}"
report="$(mktemp)"
source eng/servers.sh
# The harness, and the Redis store's process-fault scenarios (they live beside its worker program).
dotnet build tests/TypedJobs.Faults -c Release -warnaserror -nologo -v minimal || exit 1
dotnet build tests/TypedJobs.Storage.Redis.Tests -c Release -warnaserror -nologo -v minimal || exit 1
TYPEDJOBS_FAULTS_REPORT="$report" TYPEDJOBS_FAULTS_SCALE="$scale" \
  dotnet test tests/TypedJobs.Faults -c Release --no-build --logger "console;verbosity=minimal"
status=$?
TYPEDJOBS_FAULTS_REPORT="$report" TYPEDJOBS_FAULTS_SCALE="$scale" \
  dotnet test tests/TypedJobs.Storage.Redis.Tests -c Release --no-build --filter "FullyQualifiedName~RedisFaultTests" \
  --logger "console;verbosity=minimal" || status=$?
{
  echo "# Reliability under faults"
  echo
  echo "Measured by \`bash eng/faults.sh $scale\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr); every row is one"
  echo "scenario of the fault-injection harness (\`tests/TypedJobs.Faults\`, and the Redis store's process faults in"
  echo "\`tests/TypedJobs.Storage.Redis.Tests/RedisFaultTests.cs\`): real worker processes killed with SIGKILL,"
  echo "store faults injected into every operation (errors, delays, partitions), and a checker that counts acknowledged"
  echo "jobs that did not end as their handler asked (lost) and runs beyond a job's first (duplicates). \`./test.sh\` runs"
  echo "the same scenarios at scale 1 on every commit."
  echo
  echo "| scenario | store | guarantee | jobs | kills | lost | duplicates |"
  echo "|---|---|---|---|---|---|---|"
  sort "$report"
  echo
  echo "Duplicates are the price of at-least-once execution: a job runs again only when its worker died, or could not"
  echo "prove its lease, after the handler ran and before the outcome was written. The documented bound per fault is the"
  echo "worker's concurrency plus the outcomes it had waiting (at most its concurrency again)."
} > docs/reliability.md
rm -f "$report"
echo "wrote docs/reliability.md"
exit $status
