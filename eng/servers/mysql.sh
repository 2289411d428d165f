#!/usr/bin/env bash
# A throwaway MariaDB server for the MySQL store's tests.
#
# Sourced by ./test.sh: start_mysql installs mariadb-server when it is missing, initializes a data directory in a
# temporary directory, starts MariaDB on a free loopback port chosen now (others run servers on this machine too),
# durable (InnoDB flushes its log at every commit), with TLS on a self-signed certificate, and exports:
#   TYPEDJOBS_TEST_MYSQL         a MySqlConnector connection string of a user that may create databases
#   TYPEDJOBS_TEST_MYSQL_CA      the certificate the server presents (for SslMode=VerifyCA)
#   TYPEDJOBS_TEST_MYSQL_SCRIPT  this script, which tests run to start servers of their own (fault tests restart them)
# stop_mysql stops it and removes the directory.
#
# Run directly, it manages one server in a given directory (for tests that need a server of their own):
#   mysql.sh start DIR    prints the port once the server answers
#   mysql.sh restart DIR  kills the server (SIGKILL: a crash) and starts it again on the same port; prints the port
#   mysql.sh stop DIR     stops it and removes DIR
# Users: typedjobs/typedjobs (every privilege, from 127.0.0.1) and limited/limited (no privilege beyond USAGE).

_mysql_install() {
  if command -v mariadbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1; then
    return 0
  fi
  echo "mysql.sh: installing mariadb-server" >&2
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null 2>&1
  command -v mariadbd >/dev/null 2>&1
}


# shellcheck source=eng/servers/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

_mysql_free_port() {
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

# _mysql_run DIR PORT: starts mariadbd in the background and waits until it answers.
_mysql_run() {
  local dir="$1" port="$2" ssl=()
  if [ -f "$dir/server.crt" ]; then
    ssl=(--ssl-cert="$dir/server.crt" --ssl-key="$dir/server.key" --ssl-ca="$dir/ca.crt")
  fi
  setsid mariadbd --no-defaults --user=root --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
    --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/err.log" --skip-log-bin \
    --skip-name-resolve --max-connections=600 --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=1 \
    --innodb-log-file-size=256M --character-set-server=utf8mb4 --collation-server=utf8mb4_bin "${ssl[@]}" \
    </dev/null >/dev/null 2>&1 &
  echo "$port" >"$dir/port"
  for _ in $(seq 1 240); do
    if mariadb-admin --no-defaults -S "$dir/mysqld.sock" -u root ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.25
  done
  echo "mysql.sh: the server did not answer; log:" >&2
  tail -n 20 "$dir/err.log" >&2
  return 1
}

# _mysql_server_start DIR: initializes (once) and starts on a free port; prints the port.
_mysql_server_start() {
  local dir="$1" port
  _mysql_install || { echo "mysql.sh: mariadb-server is not installed" >&2; return 1; }
  mkdir -p "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; return 1; }
    if command -v openssl >/dev/null 2>&1; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 && cp "$dir/server.crt" "$dir/ca.crt"
    fi
    local first=1
  fi
  for _ in 1 2 3 4 5; do
    port=$(_mysql_free_port) || return 1
    if _mysql_run "$dir" "$port"; then
      if [ -n "${first:-}" ]; then
        mariadb --no-defaults -S "$dir/mysqld.sock" -u root <<'SQL' || return 1
CREATE USER 'typedjobs'@'127.0.0.1' IDENTIFIED BY 'typedjobs';
GRANT ALL PRIVILEGES ON *.* TO 'typedjobs'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'limited'@'127.0.0.1' IDENTIFIED BY 'limited';
CREATE DATABASE typedjobs CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
SQL
      fi
      echo "$port"
      return 0
    fi
    _mysql_kill "$dir"
  done
  return 1
}

_mysql_kill() {
  local dir="$1" pid
  [ -f "$dir/mysqld.pid" ] || return 0
  pid=$(cat "$dir/mysqld.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$dir/mysqld.pid" "$dir/mysqld.sock"
}

_mysql_server_stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  if [ -S "$dir/mysqld.sock" ]; then
    mariadb-admin --no-defaults -S "$dir/mysqld.sock" -u root shutdown >/dev/null 2>&1
  fi
  _mysql_kill "$dir"
  rm -rf "$dir"
}

# _mysql_server_restart DIR: a crash (SIGKILL) and a start on the same port; prints the port.
_mysql_server_restart() {
  local dir="$1" port
  port=$(cat "$dir/port")
  _mysql_kill "$dir"
  # The port may still be held for a moment (a socket of the killed server, or a client's); try again a few times.
  for _ in 1 2 3 4 5; do
    if _mysql_run "$dir" "$port"; then
      echo "$port"
      return 0
    fi
    _mysql_kill "$dir"
    sleep 2
  done
  return 1
}

start_mysql() {
  local dir port
  dir=$(mktemp -d /tmp/typedjobs-mysql.XXXXXX) || return 1
  port=$(_mysql_server_start "$dir") || { _mysql_server_stop "$dir"; return 1; }
  TYPEDJOBS_MYSQL_DIR="$dir"
  export TYPEDJOBS_TEST_MYSQL="Server=127.0.0.1;Port=$port;User ID=typedjobs;Password=typedjobs;Database=typedjobs"
  export TYPEDJOBS_TEST_MYSQL_SCRIPT
  TYPEDJOBS_TEST_MYSQL_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mysql.sh"
  if [ -f "$dir/ca.crt" ]; then export TYPEDJOBS_TEST_MYSQL_CA="$dir/ca.crt"; fi
  echo "mysql: $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

stop_mysql() {
  if [ -n "${TYPEDJOBS_MYSQL_DIR:-}" ]; then
    _mysql_server_stop "$TYPEDJOBS_MYSQL_DIR"
    TYPEDJOBS_MYSQL_DIR=
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-}" in
    start) _mysql_server_start "$2" ;;
    restart) _mysql_server_restart "$2" ;;
    stop) _mysql_server_stop "$2" ;;
    *) echo "usage: $0 start|restart|stop DIR" >&2; exit 2 ;;
  esac
fi
