#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#
# Sourced by ./test.sh: start_postgres creates a cluster in a temporary directory on a free loopback port (other people's
# servers may run on this machine), durable (fsync and synchronous_commit on), with TLS on a self-signed certificate, and
# exports:
#   TYPEDJOBS_TEST_POSTGRES       a connection string for the superuser (trust authentication on loopback)
#   TYPEDJOBS_TEST_POSTGRES_CA    the certificate the server presents (for sslmode=verify-full)
#   TYPEDJOBS_TEST_POSTGRES_BIN   the server binaries
#   TYPEDJOBS_TEST_POSTGRES_SCRIPT this script, which tests run to start clusters of their own (fault tests restart them)
# stop_postgres stops it and removes the directory.
#
# Run directly, it manages one cluster in a given directory (for tests that need a server of their own):
#   postgres.sh start DIR    prints the port once the server answers
#   postgres.sh restart DIR  pg_ctl restart -m immediate (a crash and recovery, same port)
#   postgres.sh stop DIR     stops it and removes DIR
# The role typedjobs_password must authenticate with a password (scram-sha-256); every other local role is trusted.

TYPEDJOBS_PG_BIN="${TYPEDJOBS_PG_BIN:-/usr/lib/postgresql/15/bin}"

_pg_as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$1"
  else
    bash -c "$1"
  fi
}

_pg_install() {
  if [ -x "$TYPEDJOBS_PG_BIN/initdb" ]; then
    return 0
  fi
  echo "postgres.sh: installing postgresql-15" >&2
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null 2>&1
  [ -x "$TYPEDJOBS_PG_BIN/initdb" ]
}


# shellcheck source=eng/servers/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

_pg_free_port() {
  local port
  for _ in $(seq 1 50); do
    # Below the kernel's ephemeral range (ports.sh says why).
    port=$((10000 + RANDOM % ($(_ephemeral_low) - 10000)))
    if ! ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# _pg_cluster_start DIR: initdb (once) and start on a free port; prints the port.
_pg_cluster_start() {
  local dir="$1" port
  _pg_install || { echo "postgres.sh: PostgreSQL 15 is not installed" >&2; return 1; }
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    _pg_as_postgres "'$TYPEDJOBS_PG_BIN/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log' 2>&1" \
      || { cat "$dir/initdb.log" >&2; return 1; }
    {
      echo "host all typedjobs_password 127.0.0.1/32 scram-sha-256"
      echo "hostssl all all 127.0.0.1/32 trust"
      echo "host all all 127.0.0.1/32 trust"
      echo "local all all trust"
    } >"$dir/data/pg_hba.conf"
    if command -v openssl >/dev/null 2>&1; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1 && {
        chmod 600 "$dir/data/server.key"
        cp "$dir/data/server.crt" "$dir/ca.crt"
        chmod 644 "$dir/ca.crt"
        if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/data/server.key" "$dir/data/server.crt"; fi
        echo "ssl = on" >>"$dir/data/postgresql.conf"
      }
    fi
    cat >>"$dir/data/postgresql.conf" <<'EOF'
listen_addresses = '127.0.0.1'
fsync = on
synchronous_commit = on
max_connections = 300
shared_buffers = 128MB
EOF
  fi
  for _ in 1 2 3 4 5; do
    port=$(_pg_free_port) || return 1
    if _pg_as_postgres "'$TYPEDJOBS_PG_BIN/pg_ctl' -D '$dir/data' -l '$dir/server.log' -o '-p $port -k $dir' -w -t 60 start >/dev/null 2>&1"; then
      echo "$port"
      return 0
    fi
  done
  echo "postgres.sh: the server did not start; log:" >&2
  tail -n 20 "$dir/server.log" >&2
  return 1
}

_pg_cluster_stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    _pg_as_postgres "'$TYPEDJOBS_PG_BIN/pg_ctl' -D '$dir/data' -m immediate -w -t 60 stop >/dev/null 2>&1"
  fi
  rm -rf "$dir"
}

start_postgres() {
  local dir port
  dir=$(mktemp -d /tmp/typedjobs-pg.XXXXXX) || return 1
  chmod 755 "$dir"
  port=$(_pg_cluster_start "$dir") || { rm -rf "$dir"; return 1; }
  TYPEDJOBS_PG_DIR="$dir"
  export TYPEDJOBS_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;SSL Mode=Disable;Timeout=60"
  export TYPEDJOBS_TEST_POSTGRES_BIN="$TYPEDJOBS_PG_BIN"
  export TYPEDJOBS_TEST_POSTGRES_SCRIPT
  TYPEDJOBS_TEST_POSTGRES_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postgres.sh"
  if [ -f "$dir/ca.crt" ]; then export TYPEDJOBS_TEST_POSTGRES_CA="$dir/ca.crt"; fi
  echo "postgres: PostgreSQL 15 on 127.0.0.1:$port ($dir)"
}

stop_postgres() {
  if [ -n "${TYPEDJOBS_PG_DIR:-}" ]; then
    _pg_cluster_stop "$TYPEDJOBS_PG_DIR"
    TYPEDJOBS_PG_DIR=
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-}" in
    start) _pg_cluster_start "$2" ;;
    restart)
      _pg_as_postgres "'$TYPEDJOBS_PG_BIN/pg_ctl' -D '$2/data' -l '$2/server.log' -m immediate -w -t 60 restart >/dev/null 2>&1" ;;
    stop) _pg_cluster_stop "$2" ;;
    *) echo "usage: $0 start|restart|stop DIR" >&2; exit 2 ;;
  esac
fi
