#!/usr/bin/env bash
# Redis for the tests of TypedJobs.Storage.Redis (sourced by ./test.sh, see README.md here):
#   start_redis  installs redis-server when it is missing, starts a standalone server and a Redis Cluster of three
#                masters on free loopback ports in a temporary directory, and exports
#                  TYPEDJOBS_TEST_REDIS          host:port of the standalone server
#                  TYPEDJOBS_TEST_REDIS_CLUSTER  host:port,host:port,host:port of the cluster's masters
#                  TYPEDJOBS_TEST_REDIS_SERVER   the redis-server binary, for fault tests that run servers of their own
#                Every server keeps an append-only file (appendfsync everysec), so the store declares itself durable.
#   stop_redis   shuts every server down and removes the directory; harmless when called twice.
# Other people may run servers on this machine at the same time: ports are chosen free at start, never fixed.

_redis_dir=""

_redis_port_free() {
  # A port is free when nothing accepts a connection on it (and, for cluster nodes, on its bus port + 10000).
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_redis_pick_port() {
  local port tries=0
  while [ $tries -lt 200 ]; do
    port=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
    if _redis_port_free "$port" && _redis_port_free $((port + 10000)); then
      echo "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  return 1
}

_redis_wait() {
  local port=$1 i
  for i in $(seq 1 100); do
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Starts one server; arguments after the name are extra redis-server options. Prints the port it listens on.
_redis_start_one() {
  local name=$1; shift
  local attempt port dir
  for attempt in 1 2 3 4 5; do
    port=$(_redis_pick_port) || return 1
    dir="$_redis_dir/$name-$port"
    mkdir -p "$dir"
    if redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" \
         --logfile "$dir/redis.log" --save '' --appendonly yes --appendfsync everysec "$@" >/dev/null 2>&1 && _redis_wait "$port"; then
      echo "$port"
      return 0
    fi
    # Someone took the port between the check and the start: try another one.
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
    rm -rf "$dir"
  done
  return 1
}

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 \
      || { echo "redis.sh: could not install redis-server" >&2; return 1; }
  fi
  _redis_dir=$(mktemp -d /tmp/typedjobs-redis.XXXXXX)

  local standalone
  standalone=$(_redis_start_one standalone) || { echo "redis.sh: the standalone server did not start" >&2; return 1; }
  export TYPEDJOBS_TEST_REDIS="127.0.0.1:$standalone"
  export TYPEDJOBS_TEST_REDIS_SERVER
  TYPEDJOBS_TEST_REDIS_SERVER=$(command -v redis-server)

  local nodes=() port i
  for i in 1 2 3; do
    port=$(_redis_start_one "cluster$i" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000) \
      || { echo "redis.sh: cluster node $i did not start" >&2; return 1; }
    nodes+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$_redis_dir/cluster-create.log" 2>&1 \
    || { echo "redis.sh: redis-cli --cluster create failed (see $_redis_dir/cluster-create.log)" >&2; return 1; }
  # The cluster answers once every node agrees that all slots are covered.
  local node ok
  for i in $(seq 1 150); do
    ok=1
    for node in "${nodes[@]}"; do
      redis-cli -p "${node##*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=0
    done
    [ $ok = 1 ] && break
    sleep 0.2
  done
  [ $ok = 1 ] || { echo "redis.sh: the cluster did not reach cluster_state:ok" >&2; return 1; }
  export TYPEDJOBS_TEST_REDIS_CLUSTER
  TYPEDJOBS_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")
  echo "redis.sh: standalone $TYPEDJOBS_TEST_REDIS, cluster $TYPEDJOBS_TEST_REDIS_CLUSTER"
}

stop_redis() {
  [ -n "$_redis_dir" ] && [ -d "$_redis_dir" ] || return 0
  local pidfile pid pids=()
  # Each pid is read once: a server removes its pid file as it exits.
  for pidfile in "$_redis_dir"/*/redis.pid; do
    pid=$(cat "$pidfile" 2>/dev/null) || continue
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  # Give them a moment to exit before the directory goes away.
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$_redis_dir"
  _redis_dir=""
  unset TYPEDJOBS_TEST_REDIS TYPEDJOBS_TEST_REDIS_CLUSTER TYPEDJOBS_TEST_REDIS_SERVER
}
