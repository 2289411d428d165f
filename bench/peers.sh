#!/usr/bin/env bash
# TypedJobs on PostgreSQL beside its peers, on the same server in the same run, printed as ratios:
#   graphile-worker 0.17 (npm; its default configuration, and at the same concurrency), pg-boss 10 (npm) and
#   Hangfire.PostgreSql 1.21 (NuGet, bench only).
# Usage: bench/peers.sh [--jobs N] [--concurrency C] [--max-seconds S] [--latency-samples N] [--json FILE]
# Uses the server in TYPEDJOBS_BENCH_POSTGRES (host:port, superuser postgres, trust) when set, otherwise starts a
# throwaway PostgreSQL 15 cluster with eng/servers/postgres.sh (durable: fsync and synchronous_commit on) and stops it.
# --json FILE appends every row as a JSON line (store, concurrency, system, label, enqueue, process, …).
#
# Sourced (as bench/compare.sh does), it only defines pg_peers HOST PORT JOBS CONCURRENCY MAX_SECONDS SAMPLES [JSON_FILE],
# which expects the bench projects built and the npm peers installed (pg_peers_prepare does both).

pg_peers_prepare() {
  [ -d bench/peers/node_modules ] || (cd bench/peers && npm install --no-audit --no-fund --loglevel=error >&2)
  dotnet build -c Release -nologo -v q bench/TypedJobs.Bench >&2
}

pg_peers() {
  local host=$1 port=$2 jobs=$3 concurrency=$4 max_seconds=$5 samples=$6 json=${7:-}
  local rows db
  rows=$(mktemp /tmp/typedjobs-pg-peers.XXXXXX)
  for db in bench_typedjobs bench_graphile bench_pgboss bench_hangfire; do
    psql -q "host=$host port=$port user=postgres dbname=postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null 2>&1
  done

  echo "Measuring on PostgreSQL at $host:$port: $jobs no-op jobs per system at concurrency $concurrency, enqueued in batches of 1000 where the system has batches" >&2
  dotnet bench/TypedJobs.Bench/bin/Release/net10.0/TypedJobs.Bench.dll --jobs "$jobs" --concurrency "$concurrency" \
    --stores "postgres=postgres://postgres@$host:$port/bench_typedjobs?schema={run}" --latency-samples "$samples" \
    --max-seconds "$max_seconds" --json "$rows" >&2

  # Every peer prints one JSON line {"peer","enqueue","process"}; it becomes a row like the bench's.
  _pg_peer_row() {
    local system=$1; shift
    "$@" | tail -1 | jq -c --arg system "$system" --argjson c "$concurrency" \
      '{store: "postgres", concurrency: $c, system: $system, label: .peer, enqueue: .enqueue, process: .process}' >>"$rows"
  }
  _pg_peer_row graphile-worker-defaults node bench/peers/graphile.mjs "postgres://postgres@$host:$port/bench_graphile" "$jobs" default "$max_seconds"
  _pg_peer_row graphile-worker node bench/peers/graphile.mjs "postgres://postgres@$host:$port/bench_graphile" "$jobs" "$concurrency" "$max_seconds"
  _pg_peer_row pg-boss node bench/peers/pgboss.mjs "postgres://postgres@$host:$port/bench_pgboss" "$jobs" 100 "$max_seconds"
  _pg_peer_row hangfire-postgres dotnet bench/TypedJobs.Bench.Hangfire/bin/Release/net10.0/TypedJobs.Bench.Hangfire.dll \
    "Host=$host;Port=$port;Username=postgres;Database=bench_hangfire" "$jobs" "$concurrency" "$max_seconds"

  jq -r -s '
    (map(select(.system == "TypedJobs")) | first) as $t
    | "\n| system (PostgreSQL 15, same server) | enqueue jobs/s | process jobs/s | TypedJobs process × |",
      "|---|---:|---:|---:|",
      "| TypedJobs (concurrency \($t.concurrency), add→start p50 \($t.p50Us / 1000 * 100 | round / 100) ms) | \($t.enqueue | round) | \($t.process | round) | 1.0 |",
      (.[] | select(.system != "TypedJobs")
        | "| \(.label) | \(.enqueue | round) | \(.process | round) | \(if .process > 0 then ($t.process / .process * 10 | round / 10) else "n/a" end) |")
  ' "$rows"
  [ -z "$json" ] || cat "$rows" >>"$json"
  rm -f "$rows"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  jobs=20000; concurrency=64; max_seconds=60; samples=300; json=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --jobs) jobs=$2; shift 2 ;;
      --concurrency) concurrency=$2; shift 2 ;;
      --max-seconds) max_seconds=$2; shift 2 ;;
      --latency-samples) samples=$2; shift 2 ;;
      --json) json=$2; shift 2 ;;
      *) echo "usage: $0 [--jobs N] [--concurrency C] [--max-seconds S] [--latency-samples N] [--json FILE]" >&2; exit 2 ;;
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
  pg_peers_prepare
  pg_peers "${server%:*}" "${server#*:}" "$jobs" "$concurrency" "$max_seconds" "$samples" "$json"
fi
