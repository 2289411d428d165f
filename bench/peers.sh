#!/usr/bin/env bash
# TypedJobs on PostgreSQL beside its peers, on the same server in the same run, printed as ratios:
#   graphile-worker 0.17 (npm; its default configuration, and at the same concurrency), pg-boss 10 (npm) and
#   Hangfire.PostgreSql 1.21 (NuGet, bench only).
# Usage: bench/peers.sh [--jobs N] [--concurrency C] [--max-seconds S] [--latency-samples N]
# Uses the server in TYPEDJOBS_BENCH_POSTGRES (host:port, superuser postgres, trust) when set, otherwise starts a
# throwaway PostgreSQL 15 cluster with eng/servers/postgres.sh (durable: fsync and synchronous_commit on) and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=20000; concurrency=64; max_seconds=60; samples=300
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --latency-samples) samples=$2; shift 2 ;;
    *) echo "usage: $0 [--jobs N] [--concurrency C] [--max-seconds S] [--latency-samples N]" >&2; exit 2 ;;
  esac
done

# shellcheck source=/dev/null
source eng/servers/postgres.sh
if [ -n "${TYPEDJOBS_BENCH_POSTGRES:-}" ]; then
  server=$TYPEDJOBS_BENCH_POSTGRES
else
  start_postgres >&2
  trap stop_postgres EXIT
  port=$(echo "$TYPEDJOBS_TEST_POSTGRES" | sed -n 's/.*Port=\([0-9]*\).*/\1/p')
  server="127.0.0.1:$port"
fi
host=${server%:*}; port=${server#*:}
for db in bench_typedjobs bench_graphile bench_pgboss bench_hangfire; do
  psql -q "host=$host port=$port user=postgres dbname=postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null 2>&1
done
[ -d bench/peers/node_modules ] || (cd bench/peers && npm install --no-audit --no-fund --loglevel=error >&2)
for project in bench/TypedJobs.Bench bench/TypedJobs.Bench.Hangfire; do
  dotnet build -c Release -nologo -v q "$project" >&2
done

echo "Measuring on PostgreSQL at $host:$port: $jobs no-op jobs per system, enqueued in batches of 1000 where the system has batches" >&2
row=$(dotnet bench/TypedJobs.Bench/bin/Release/net10.0/TypedJobs.Bench.dll --jobs "$jobs" --concurrency "$concurrency" \
  --stores "postgres=postgres://postgres@$host:$port/bench_typedjobs?schema={run}" --latency-samples "$samples" \
  --max-seconds "$max_seconds" | grep '^| postgres')
column() { echo "$row" | cut -d'|' -f"$1" | tr -d ' ,'; }
tj_enqueue=$(column 4)
tj_process=$(column 5)
tj_p50=$(echo "$row" | cut -d'|' -f8 | sed 's/^ *//; s/ *$//')

peer() { node "bench/peers/$1" "postgres://postgres@$host:$port/$2" "$jobs" "$3" "$max_seconds"; }
results=()
results+=("$(peer graphile.mjs bench_graphile default)")
results+=("$(peer graphile.mjs bench_graphile "$concurrency")")
results+=("$(peer pgboss.mjs bench_pgboss 100)")
results+=("$(dotnet bench/TypedJobs.Bench.Hangfire/bin/Release/net10.0/TypedJobs.Bench.Hangfire.dll \
  "Host=$host;Port=$port;Username=postgres;Database=bench_hangfire" "$jobs" "$concurrency" "$max_seconds" | tail -1)")

printf '\n| %-44s | %14s | %14s | %18s |\n' "system (PostgreSQL 15, same server)" "enqueue jobs/s" "process jobs/s" "TypedJobs process ×"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..20})"
printf '| %-44s | %14.0f | %14.0f | %18s |\n' "TypedJobs (concurrency $concurrency, add→start p50 $tj_p50)" "$tj_enqueue" "$tj_process" "1.0"
for r in "${results[@]}"; do
  name=$(echo "$r" | sed -n 's/.*"peer":"\([^"]*\)".*/\1/p')
  enq=$(echo "$r" | sed -n 's/.*"enqueue":\([0-9.]*\).*/\1/p')
  proc=$(echo "$r" | sed -n 's/.*"process":\([0-9.]*\).*/\1/p')
  ratio=$(awk -v a="$tj_process" -v b="$proc" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')
  printf '| %-44s | %14.0f | %14.0f | %18s |\n' "$name" "$enq" "$proc" "$ratio"
done
