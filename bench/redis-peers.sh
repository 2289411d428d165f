#!/usr/bin/env bash
# TypedJobs on Redis beside its peers on the same server in the same run: BullMQ 6 (npm) and Hangfire 1.8 with
# Hangfire.Redis.StackExchange 1.12 (NuGet, bench only). Starts a throwaway redis-server on a free loopback port with the
# persistence given (default: appendonly yes, appendfsync everysec, as every peer then runs with), runs each at the same
# concurrency, prints one table and the ratios, and stops the server.
#   bash bench/redis-peers.sh [--jobs N] [--concurrency C] [--latency-samples S] [--fsync always|everysec|no]
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=50000; concurrency=64; samples=300; fsync=everysec; hangfire_jobs=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --latency-samples) samples=$2; shift 2 ;;
    --fsync) fsync=$2; shift 2 ;;
    --hangfire-jobs) hangfire_jobs=$2; shift 2 ;;
    *) echo "unknown option $1 (valid: --jobs, --concurrency, --latency-samples, --fsync, --hangfire-jobs)" >&2; exit 2 ;;
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

(cd bench/peers/bullmq && [ -d node_modules ] || npm install --no-audit --no-fund --silent >/dev/null)
dotnet build -c Release bench/TypedJobs.Bench -nologo -v quiet >/dev/null

echo "Redis $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on 127.0.0.1:$port, appendonly yes, appendfsync $fsync;" \
  "$jobs no-op jobs ($hangfire_jobs for Hangfire), concurrency $concurrency, $(nproc) cores"
out="$dir/rows.txt"
dotnet run -c Release --no-build --project bench/TypedJobs.Bench -- --jobs "$jobs" --warmup-jobs "$jobs" \
  --stores "typedjobs-redis=redis://127.0.0.1:$port" --concurrency "$concurrency" --latency-samples "$samples" --max-seconds 60 | tee "$out"
redis-cli -p "$port" flushall >/dev/null
node bench/peers/bullmq/bench.mjs 127.0.0.1 "$port" "$jobs" "$concurrency" "$samples" | tee -a "$out"
redis-cli -p "$port" flushall >/dev/null
dotnet run -c Release --no-build --project bench/TypedJobs.Bench -- --hangfire-redis "127.0.0.1:$port" --jobs "$hangfire_jobs" \
  --concurrency "$concurrency" --latency-samples "$((samples / 3 + 1))" | tee -a "$out"

# Ratios of TypedJobs to each peer (enqueue and processing rates; latency p50).
python3 - "$out" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(cells) in (7, 8) and cells[0] in ('typedjobs-redis', 'bullmq', 'hangfire-redis'):
        num = lambda s: float(s.replace(',', '').split()[0]) if s and s.split()[0].replace(',', '').replace('.', '').isdigit() else None
        ms = lambda s: num(s) / 1000 if s.endswith('µs') and num(s) is not None else num(s)
        rows[cells[0]] = (num(cells[2]), num(cells[3]), ms(cells[-2]))
t = rows.get('typedjobs-redis')
print()
for peer in ('bullmq', 'hangfire-redis'):
    p = rows.get(peer)
    if t and p and all(p):
        print(f"TypedJobs / {peer}: enqueue {t[0] / p[0]:.2f}x, processing {t[1] / p[1]:.2f}x, add->start p50 {t[2]:.2f} ms vs {p[2]:.2f} ms")
EOF
