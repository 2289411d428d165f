#!/usr/bin/env bash
# Native AOT gate: publishes the AOT test apps for linux-x64, fails on any trim or AOT warning (IL2xxx/IL3xxx), runs
# the binaries and checks their jobs ran. Prints one line per check:
#   aot-gate: <check> passed|failed
# and exits non-zero when any check failed.
#
# Frameworks: AOT_FRAMEWORKS (default "net10.0", the target users pick; ./test.sh runs this on every commit).
# eng/aot-gate-full.sh runs the same checks for net10.0 and net8.0.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${AOT_OUT:-$(mktemp -d /tmp/typedjobs-aot.XXXXXX)}
frameworks=${AOT_FRAMEWORKS:-net10.0}
failures=0
report() { echo "aot-gate: $1 $2"; [ "$2" = passed ] || failures=$((failures + 1)); }

publish() { # name project framework
  local name=$1 project=$2 framework=$3 log="$out/$1.publish.log"
  dotnet publish "$project" -c Release -r linux-x64 -f "$framework" -o "$out/$name" -nologo -p:TreatWarningsAsErrors=false >"$log" 2>&1
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

for framework in $frameworks; do
  roots="api-roots-$framework"
  if publish "$roots" tests/TypedJobs.AotTests/TypedJobs.AotTests.csproj "$framework"; then
    if "$out/$roots/TypedJobs.AotTests"; then report "$roots-run" passed; else report "$roots-run" failed; fi
  fi

  worker="aotworker-$framework"
  if publish "$worker" samples/AotWorker/AotWorker.csproj "$framework"; then
    bin="$out/$worker/AotWorker"
    size=$(stat -c %s "$bin")
    echo "aot-gate: $worker binary $((size / 1024 / 1024)) MiB ($size bytes) + libe_sqlite3.so $(( $(stat -c %s "$out/$worker/libe_sqlite3.so") / 1024 )) KiB"
    run_dir=$(mktemp -d /tmp/typedjobs-aotworker.XXXXXX)
    jobs=${AOT_WORKER_JOBS:-3000}
    if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -v -o "$run_dir/time.txt"); else timer=(); fi
    # Storage and job count come from environment variables, bound from configuration.
    if (cd "$run_dir" && TypedJobs__Storage="sqlite:$run_dir/jobs.db" AotWorker__Jobs="$jobs" "${timer[@]}" "$bin" | tee "$run_dir/out.txt"); then
      grep -q "processed $jobs of $jobs orders" "$run_dir/out.txt" && grep -q "(0 mismatches)" "$run_dir/out.txt" \
        && report "$worker-run" passed || report "$worker-run" failed
    else
      report "$worker-run" failed
    fi
    # The same binary on PostgreSQL, selected by the URL alone, when ./test.sh started a server.
    pg_port=$(echo "${TYPEDJOBS_TEST_POSTGRES:-}" | sed -n 's/.*Port=\([0-9]*\).*/\1/p')
    if [ -n "$pg_port" ]; then
      if (cd "$run_dir" && TypedJobs__Storage="postgres://postgres@127.0.0.1:$pg_port/postgres?schema=aotworker_$$&sslmode=disable" \
            AotWorker__Jobs="$jobs" "$bin" >"$run_dir/pg.txt" 2>&1); then
        grep -q "processed $jobs of $jobs orders" "$run_dir/pg.txt" && grep -q "(0 mismatches)" "$run_dir/pg.txt" \
          && report "$worker-run-postgres" passed || { tail -20 "$run_dir/pg.txt"; report "$worker-run-postgres" failed; }
      else
        tail -20 "$run_dir/pg.txt"
        report "$worker-run-postgres" failed
      fi
    fi
    if [ -f "$run_dir/time.txt" ]; then
      echo "aot-gate: $worker peak memory $(awk -F': ' '/Maximum resident/ {print int($2/1024)}' "$run_dir/time.txt") MiB, wall time $(awk -F': ' '/Elapsed \(wall/ {print $2}' "$run_dir/time.txt")"
    fi
    rm -rf "$run_dir"
    # The same binary on Redis (the server ./test.sh starts; eng/servers/redis.sh), chosen by configuration alone.
    if [ -n "${TYPEDJOBS_TEST_REDIS:-}" ]; then
      run_dir=$(mktemp -d /tmp/typedjobs-aotworker.XXXXXX)
      url="redis://$TYPEDJOBS_TEST_REDIS?prefix=aot-gate-$(basename "$run_dir"):"
      if (cd "$run_dir" && TypedJobs__Storage="$url" AotWorker__Jobs="$jobs" "$bin" | tee "$run_dir/out.txt"); then
        grep -q "processed $jobs of $jobs orders" "$run_dir/out.txt" && grep -q "(0 mismatches)" "$run_dir/out.txt" \
          && report "$worker-redis-run" passed || report "$worker-redis-run" failed
      else
        report "$worker-redis-run" failed
      fi
      redis-cli -h "${TYPEDJOBS_TEST_REDIS%:*}" -p "${TYPEDJOBS_TEST_REDIS##*:}" --scan --pattern "{aot-gate-$(basename "$run_dir"):*" \
        | xargs -r -n 500 redis-cli -h "${TYPEDJOBS_TEST_REDIS%:*}" -p "${TYPEDJOBS_TEST_REDIS##*:}" del >/dev/null 2>&1
      rm -rf "$run_dir"
    elif [ "${CI:-}" = true ]; then
      echo "aot-gate: TYPEDJOBS_TEST_REDIS is not set (./test.sh starts Redis); under CI=true that is a failure"
      report "$worker-redis-run" failed
    fi
  fi
done

[ -z "${AOT_OUT:-}" ] && rm -rf "$out"
exit $failures
