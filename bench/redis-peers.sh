#!/usr/bin/env bash
# TypedJobs on Redis beside its peers on the same server in the same run: BullMQ 6 (npm) and Hangfire 1.8 with
# Hangfire.Redis.StackExchange 1.12 (NuGet, bench only). Starts a throwaway redis-server on a free loopback port with the
# persistence given (default: appendonly yes, appendfsync everysec, as every peer then runs with), runs each at the same
# concurrency, prints one table and the ratios, and stops the server.
#   bash bench/redis-peers.sh [--jobs N] [--concurrency C] [--latency-samples S] [--fsync always|everysec|no]
#     [--hangfire-jobs N] [--json FILE]
# --json FILE appends every row as a JSON line (store, concurrency, system, label, enqueue, process, …).
#
# Sourced (as bench/compare.sh does), it only defines redis_peers HOST PORT JOBS CONCURRENCY SAMPLES HANGFIRE_JOBS
# [JSON_FILE], for a server already running, which expects the bench built and BullMQ installed (redis_peers_prepare).

redis_peers_prepare() {
  (cd bench/peers/bullmq && [ -d node_modules ] || npm install --no-audit --no-fund --silent >/dev/null)
  dotnet build -c Release bench/TypedJobs.Bench -nologo -v quiet >/dev/null
}

redis_peers() {
  local host=$1 port=$2 jobs=$3 concurrency=$4 samples=$5 hangfire_jobs=$6 json=${7:-}
  local out rows
  out=$(mktemp /tmp/typedjobs-redis-peers.XXXXXX)
  rows=$(mktemp /tmp/typedjobs-redis-peers-json.XXXXXX)
  echo "Redis $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on $host:$port," \
    "$(redis-cli -h "$host" -p "$port" config get appendonly | tail -1 | sed 's/^/appendonly /')," \
    "$(redis-cli -h "$host" -p "$port" config get appendfsync | tail -1 | sed 's/^/appendfsync /');" \
    "$jobs no-op jobs ($hangfire_jobs for Hangfire), concurrency $concurrency, $(nproc) cores"
  dotnet bench/TypedJobs.Bench/bin/Release/net10.0/TypedJobs.Bench.dll --jobs "$jobs" --warmup-jobs "$jobs" \
    --stores "redis=redis://$host:$port" --concurrency "$concurrency" --latency-samples "$samples" --max-seconds 60 --json "$rows" | tee "$out"
  redis-cli -h "$host" -p "$port" flushall >/dev/null
  node bench/peers/bullmq/bench.mjs "$host" "$port" "$jobs" "$concurrency" "$samples" "$rows" | tee -a "$out"
  redis-cli -h "$host" -p "$port" flushall >/dev/null
  dotnet bench/TypedJobs.Bench/bin/Release/net10.0/TypedJobs.Bench.dll --hangfire-redis "$host:$port" --jobs "$hangfire_jobs" \
    --concurrency "$concurrency" --latency-samples "$((samples / 3 + 1))" --json "$rows" | tee -a "$out"

  # Ratios of TypedJobs to each peer (enqueue and processing rates; latency p50).
  echo
  jq -r -s '
    (map(select(.system == "TypedJobs")) | first) as $t
    | .[] | select(.system != "TypedJobs")
    | "TypedJobs / \(.system): enqueue \($t.enqueue / .enqueue * 100 | round / 100)x, processing \(if .process > 0 then ($t.process / .process * 100 | round / 100) else "n/a" end)x, add->start p50 \($t.p50Us / 10 | round / 100) ms vs \(if .p50Us then (.p50Us / 10 | round / 100) else "n/a" end) ms"
  ' "$rows"
  [ -z "$json" ] || cat "$rows" >>"$json"
  rm -f "$out" "$rows"
  redis_server_cpu "$host" "$port" "$jobs" "$concurrency"
}

# redis-server CPU per job (its whole life: insert, claim and completion) of TypedJobs, BullMQ and bench/peers/floor (the
# least a durable queue with leases and fencing does), each alone on the emptied server, from the server's /proc entry
# (so only for a server on this machine). TypedJobs runs without warm-up rounds here, so every job it processed is counted.
redis_server_cpu() {
  local host=$1 port=$2 jobs=$3 concurrency=$4 pid
  pid=$(redis-cli -h "$host" -p "$port" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p' | tr -d '\r')
  if [ -z "$pid" ] || [ ! -r "/proc/$pid/stat" ]; then
    echo "redis-server CPU per job: not measured (the server's process is not on this machine)"
    return
  fi
  server_us() { awk '{ print ($14 + $15) * 1000000 / '"$(getconf CLK_TCK)"' }' "/proc/$pid/stat"; }
  # per_job LABEL COMMAND...: runs the command on the emptied server and prints its server CPU per job.
  per_job() {
    local label=$1 before after
    shift
    redis-cli -h "$host" -p "$port" flushall >/dev/null
    before=$(server_us)
    "$@" >/dev/null
    after=$(server_us)
    echo "  $label $(awk -v a="$after" -v b="$before" -v n="$jobs" 'BEGIN { printf "%.1f", (a - b) / (n + 1) }') µs"
  }
  echo
  echo "redis-server CPU per job ($jobs jobs each, alone on the server; insert, claim and completion):"
  per_job "TypedJobs:" dotnet bench/TypedJobs.Bench/bin/Release/net10.0/TypedJobs.Bench.dll --jobs "$jobs" --warmup-jobs 0 \
    --latency-samples 1 --stores "redis=redis://$host:$port" --concurrency "$concurrency" --max-seconds 60
  per_job "BullMQ:   " node bench/peers/bullmq/bench.mjs "$host" "$port" "$jobs" "$concurrency" 1
  redis-cli -h "$host" -p "$port" flushall >/dev/null
  echo "  $(node bench/peers/floor/floor.mjs "$host" "$port" "$jobs" 4 64)"
  redis-cli -h "$host" -p "$port" flushall >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."

  jobs=50000; concurrency=64; samples=300; fsync=everysec; hangfire_jobs=10000; json=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --jobs) jobs=$2; shift 2 ;;
      --concurrency) concurrency=$2; shift 2 ;;
      --latency-samples) samples=$2; shift 2 ;;
      --fsync) fsync=$2; shift 2 ;;
      --hangfire-jobs) hangfire_jobs=$2; shift 2 ;;
      --json) json=$2; shift 2 ;;
      *) echo "unknown option $1 (valid: --jobs, --concurrency, --latency-samples, --fsync, --hangfire-jobs, --json)" >&2; exit 2 ;;
    esac
  done

  command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
  dir=$(mktemp -d /tmp/typedjobs-peers.XXXXXX)
  port=""
  for _ in $(seq 1 50); do
    candidate=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
  done
  [ -n "$port" ] || { echo "no free port" >&2; exit 1; }
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save '' --appendonly yes --appendfsync "$fsync" --maxmemory-policy noeviction >/dev/null
  trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.5; rm -rf "$dir"' EXIT
  until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do sleep 0.1; done

  redis_peers_prepare
  redis_peers 127.0.0.1 "$port" "$jobs" "$concurrency" "$samples" "$hangfire_jobs" "$json"
fi
