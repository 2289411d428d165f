#!/usr/bin/env bash
# TypedJobs beside every peer, in one run on this machine, with one ratio table at the end:
#   memory   Quartz 4.7.3 (RAMJobStore; defaults and tuned), Hangfire 1.8.25 on Hangfire.InMemory 1.0.0 (defaults, tuned)
#   SQLite   Hangfire 1.8.25 on Hangfire.Storage.SQLite 0.4.3 (capped job count)
#   PostgreSQL  graphile-worker 0.17 (defaults and at the same concurrency), pg-boss 10, Hangfire.PostgreSql 1.21 (bench/peers.sh)
#   Redis    BullMQ 6 and Hangfire.Redis.StackExchange 1.12 (bench/redis-peers.sh)
# Usage: bash bench/compare.sh [--quick] [--readme]
#   --quick   small job counts (a few minutes on a 2-core machine); the default is a fuller run
#   --readme  also writes the date, machine, command, table and targets between <!-- bench:begin --> and
#             <!-- bench:end --> in README.md
# Starts PostgreSQL and Redis with eng/servers/*.sh and stops them on exit. Every row is collected as a JSON line
# (TypedJobs.Bench --json, the peers' own JSON) and the table and the met/not-met lines are computed from them.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0; readme=0; command="bash bench/compare.sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; command+=" --quick"; shift ;;
    --readme) readme=1; command+=" --readme"; shift ;;
    *) echo "usage: $0 [--quick] [--readme]" >&2; exit 2 ;;
  esac
done

if [ $quick = 1 ]; then
  inproc=(--jobs 20000 --warmup-jobs 20000 --peer-jobs 5000 --slow-peer-jobs 300 --latency-samples 200 --max-seconds 8 --concurrency 16,64)
  pg_jobs=5000; pg_concurrency=(64); pg_max=10; pg_samples=100
  redis_jobs=10000; redis_concurrency=64; redis_samples=100; redis_hangfire_jobs=2000
else
  inproc=(--jobs 100000 --peer-jobs 20000 --slow-peer-jobs 1000 --latency-samples 1000 --max-seconds 20 --concurrency 1,16,64)
  pg_jobs=20000; pg_concurrency=(16 64); pg_max=30; pg_samples=300
  redis_jobs=50000; redis_concurrency=64; redis_samples=300; redis_hangfire_jobs=10000
fi

work=$(mktemp -d /tmp/typedjobs-compare.XXXXXX)
rows="$work/rows.jsonl"
: >"$rows"
# shellcheck source=/dev/null
source eng/servers/postgres.sh
# shellcheck source=/dev/null
source eng/servers/redis.sh
# shellcheck source=bench/peers.sh
source bench/peers.sh
# shellcheck source=bench/redis-peers.sh
source bench/redis-peers.sh
cleanup() {
  stop_redis >/dev/null 2>&1 || true
  stop_postgres >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
step() { echo "== [$(( $(date +%s) - started )) s] $*" >&2; }

step "building the bench (TypedJobs.Bench and TypedJobs.Bench.Hangfire) and installing the npm peers"
dotnet build bench/TypedJobs.Bench -c Release -warnaserror -nologo -v q >&2
[ -d bench/peers/node_modules ] || (cd bench/peers && npm install --no-audit --no-fund --loglevel=error >&2)
(cd bench/peers/bullmq && [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error >&2)

step "memory and SQLite, with the in-process peers: ${inproc[*]}"
dotnet bench/TypedJobs.Bench/bin/Release/net10.0/TypedJobs.Bench.dll --stores memory,sqlite \
  --peers quartz,hangfire-memory,hangfire-sqlite --json "$rows" "${inproc[@]}" >&2

step "PostgreSQL (eng/servers/postgres.sh) beside graphile-worker, pg-boss and Hangfire.PostgreSql"
start_postgres >&2
pg_port=$(echo "$TYPEDJOBS_TEST_POSTGRES" | sed -n 's/.*Port=\([0-9]*\).*/\1/p')
for c in "${pg_concurrency[@]}"; do
  pg_peers 127.0.0.1 "$pg_port" "$pg_jobs" "$c" "$pg_max" "$pg_samples" "$rows" >&2
done
stop_postgres >&2

step "Redis (eng/servers/redis.sh, appendfsync everysec) beside BullMQ and Hangfire.Redis.StackExchange"
start_redis >&2
redis_peers "${TYPEDJOBS_TEST_REDIS%:*}" "${TYPEDJOBS_TEST_REDIS#*:}" "$redis_jobs" "$redis_concurrency" "$redis_samples" "$redis_hangfire_jobs" "$rows" >&2
stop_redis 2>/dev/null >&2
step "done"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
ram=$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1024 / 1024 }' /proc/meminfo)
python3 - "$rows" "$work/report.md" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc) cores, $cpu, $ram RAM" "$command" "$load_before" "$load_after" <<'PY'
import json, sys

rows_file, report_file, when, machine, command, load_before, load_after = sys.argv[1:8]
rows = [json.loads(line) for line in open(rows_file) if line.strip()]
stores = {
    "memory": "memory",
    "sqlite": "SQLite file, synchronous=FULL",
    "postgres": "PostgreSQL 15, fsync + synchronous_commit on",
    "redis": "Redis, appendfsync everysec",
}
order = list(stores)

def ours(store, c):
    return next((r for r in rows if r["system"] == "TypedJobs" and r["store"] == store and r["concurrency"] == c), None)

def peers(store, c, system=None):
    return [r for r in rows if r["system"] != "TypedJobs" and r["store"] == store and r["concurrency"] == c and (system is None or r["system"] == system)]

def rate(v): return "n/a" if v is None else f"{v:,.0f}"
def micros(v):
    if v is None: return "n/a"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"
def ratio(a, b): return "n/a" if not a or not b else f"{a / b:.2f}×"

out = []
out.append(f"Measured {when} on {machine}, with `{command}`. The machine is shared: load average (1, 5, 15 min) "
           f"{load_before} at the start and {load_after} at the end, so compare within a row, not across runs.")
out.append("")
out.append("TypedJobs rows:")
out.append("")
out.append("| store | concurrency | enqueue jobs/s | process jobs/s | CPU µs/job | bytes/job | add→start p50 | add→start p99 |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
typed = sorted((r for r in rows if r["system"] == "TypedJobs"), key=lambda r: (order.index(r["store"]) if r["store"] in order else 99, r["concurrency"]))
for r in typed:
    cpu = "n/a" if r.get("cpuUs") is None else f"{r['cpuUs']:.1f}"
    out.append(f"| {stores.get(r['store'], r['store'])} | {r['concurrency']} | {rate(r.get('enqueue'))} | {rate(r.get('process'))} | {cpu} | {rate(r.get('bytes'))} | {micros(r.get('p50Us'))} | {micros(r.get('p99Us'))} |")
out.append("")
out.append("TypedJobs beside each peer, same store kind and concurrency, same run (process rates; ratio > 1 means TypedJobs is faster or, for p50, the peer is slower to start a job):")
out.append("")
out.append("| store | concurrency | TypedJobs process jobs/s | peer (settings) | peer process jobs/s | TypedJobs ÷ peer | TypedJobs p50 | peer p50 | p50 peer ÷ TypedJobs |")
out.append("|---|---:|---:|---|---:|---:|---:|---:|---:|")
for r in typed:
    for p in peers(r["store"], r["concurrency"]):
        out.append(f"| {stores.get(r['store'], r['store'])} | {r['concurrency']} | {rate(r.get('process'))} | {p['label']} | {rate(p.get('process'))} | "
                   f"{ratio(r.get('process'), p.get('process'))} | {micros(r.get('p50Us'))} | {micros(p.get('p50Us'))} | {ratio(p.get('p50Us'), r.get('p50Us'))} |")

# Targets, computed from the rows above.
def target(text, ok, figures):
    state = "not measured" if ok is None else ("**met**" if ok else "**not met**")
    return f"- {text}: {state} ({figures})"

targets = []
m16 = ours("memory", 16)
targets.append(target("in-memory ≥ 1,000,000 jobs/s at concurrency 16",
                      None if not m16 else m16["process"] >= 1_000_000, f"{rate(m16['process']) if m16 else 'n/a'} jobs/s"))
quartz16 = [p["p50Us"] for p in peers("memory", 16, "quartz") if p.get("p50Us") is not None]
p50 = m16.get("p50Us") if m16 else None
targets.append(target("in-memory add→start p50 ≤ 10 µs and below Quartz's (concurrency 16)",
                      None if p50 is None or not quartz16 else (p50 <= 10 and p50 < min(quartz16)),
                      f"{micros(p50)}; Quartz best {micros(min(quartz16)) if quartz16 else 'n/a'}"))
mem = [r for r in typed if r["store"] == "memory" and r.get("bytes") is not None]
targets.append(target("bytes/job ≤ 200 on memory (every concurrency measured)",
                      None if not mem else all(r["bytes"] <= 200 for r in mem),
                      ", ".join(f"{rate(r['bytes'])} at {r['concurrency']}" for r in mem) or "n/a"))
s64, s16 = ours("sqlite", 64), ours("sqlite", 16)
targets.append(target("SQLite (synchronous=FULL) ≥ 30,000 jobs/s at concurrency 64",
                      None if not s64 else s64["process"] >= 30_000, f"{rate(s64['process']) if s64 else 'n/a'} jobs/s"))
targets.append(target("SQLite (synchronous=FULL) ≥ 12,000 jobs/s at concurrency 16",
                      None if not s16 else s16["process"] >= 12_000, f"{rate(s16['process']) if s16 else 'n/a'} jobs/s"))
pg = ours("postgres", 64)
gw = next(iter(peers("postgres", 64, "graphile-worker-defaults")), None)
targets.append(target("PostgreSQL ≥ 20,000 jobs/s at concurrency 64",
                      None if not pg else pg["process"] >= 20_000, f"{rate(pg['process']) if pg else 'n/a'} jobs/s"))
targets.append(target("PostgreSQL ≥ 5× graphile-worker defaults at concurrency 64",
                      None if not pg or not gw or not gw.get("process") else pg["process"] >= 5 * gw["process"],
                      f"{ratio(pg and pg['process'], gw and gw.get('process'))}"))
redis = [r for r in typed if r["store"] == "redis"]
bull = [(r, p) for r in redis for p in peers("redis", r["concurrency"], "bullmq")]
targets.append(target("Redis ≥ 3× BullMQ processing",
                      None if not bull else all(p.get("process") and r["process"] >= 3 * p["process"] for r, p in bull),
                      ", ".join(f"{ratio(r['process'], p.get('process'))} at {r['concurrency']}" for r, p in bull) or "n/a"))
out.append("")
out.append("Targets (computed from this run):")
out.append("")
out.extend(targets)
open(report_file, "w").write("\n".join(out) + "\n")
PY

echo
cat "$work/report.md"
if [ $readme = 1 ]; then
  python3 - README.md "$work/report.md" <<'PY'
import sys
readme, report = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
if begin not in text or end not in text:
    sys.exit(f"{readme} has no {begin} … {end} markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(readme, "w").write(head + begin + "\n" + report + end + tail)
PY
  echo "README.md updated between <!-- bench:begin --> and <!-- bench:end -->." >&2
fi
