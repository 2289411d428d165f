#!/usr/bin/env bash
# NATS with JetStream for the tests of TypedJobs.Storage.Nats.
#
# Sourced by ./test.sh: start_nats installs nats-server when it is missing and starts, in a temporary directory, on free
# loopback ports chosen now (others run servers on this machine too):
#   - a plain server:                     nats-server -a 127.0.0.1 -p PORT -js -sd DIR/js
#   - a TLS server with a user/password:  the same plus --tls --tlscert --tlskey --user typedjobs --pass typedjobs
# and exports:
#   TYPEDJOBS_TEST_NATS         nats://127.0.0.1:PORT of the plain server
#   TYPEDJOBS_TEST_NATS_TLS     tls://typedjobs:typedjobs@127.0.0.1:PORT of the TLS server (when openssl exists)
#   TYPEDJOBS_TEST_NATS_TLS_CA  the certificate the TLS server presents
#   TYPEDJOBS_TEST_NATS_SCRIPT  this script, which fault tests run to start (and restart) servers of their own
# report_nats prints the plain server's warnings and errors; stop_nats stops them and removes the directory, harmless
# when called twice.
#
# Run directly, it manages one plain server in a given directory:
#   nats.sh start DIR    prints the port once the server answers
#   nats.sh restart DIR  kills the server (SIGKILL: a crash) and starts it again on the same port and data; prints the port
#   nats.sh stop DIR     stops it and removes DIR

_nats_install() {
  command -v nats-server >/dev/null 2>&1 && return 0
  echo "nats.sh: installing nats-server" >&2
  (apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq nats-server) \
    >/dev/null 2>&1
  command -v nats-server >/dev/null 2>&1
}


# shellcheck source=eng/servers/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

_nats_free_port() {
  local port
  for _ in $(seq 1 50); do
    # Below the kernel's ephemeral range (ports.sh says why).
    port=$((10000 + RANDOM % ($(_ephemeral_low) - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# _nats_run DIR PORT [extra nats-server options]: starts nats-server in the background and waits until it answers.
_nats_run() {
  local dir="$1" port="$2"
  shift 2
  mkdir -p "$dir/js"
  setsid nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/js" -P "$dir/nats.pid" -l "$dir/nats.log" "$@" \
    </dev/null >/dev/null 2>&1 &
  echo "$port" >"$dir/port"
  if [ $# -gt 0 ]; then printf '%s\n' "$@" >"$dir/args"; else : >"$dir/args"; fi
  for _ in $(seq 1 200); do
    if [ -f "$dir/nats.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      # JetStream is ready once the server logs it (it recovers its streams first).
      if grep -q "Server is ready" "$dir/nats.log" 2>/dev/null; then
        return 0
      fi
    fi
    sleep 0.1
  done
  echo "nats.sh: the server did not answer on $port; log:" >&2
  tail -n 20 "$dir/nats.log" >&2
  return 1
}

_nats_kill() {
  local dir="$1" pid
  [ -f "$dir/nats.pid" ] || return 0
  pid=$(cat "$dir/nats.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$dir/nats.pid"
}

# _nats_server_start DIR [extra options]: starts on a free port; prints the port.
_nats_server_start() {
  local dir="$1" port
  shift
  _nats_install || { echo "nats.sh: nats-server is not installed" >&2; return 1; }
  mkdir -p "$dir"
  for _ in 1 2 3 4 5; do
    port=$(_nats_free_port) || return 1
    if _nats_run "$dir" "$port" "$@"; then
      echo "$port"
      return 0
    fi
    _nats_kill "$dir"
    : >"$dir/nats.log"
  done
  return 1
}

_nats_server_stop() {
  local dir="$1" pid
  [ -d "$dir" ] || return 0
  if [ -f "$dir/nats.pid" ]; then
    pid=$(cat "$dir/nats.pid" 2>/dev/null)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  _nats_kill "$dir"
  rm -rf "$dir"
}

# _nats_server_restart DIR: a crash (SIGKILL) and a start on the same port, data and options; prints the port.
_nats_server_restart() {
  local dir="$1" port args=()
  port=$(cat "$dir/port")
  [ -s "$dir/args" ] && mapfile -t args <"$dir/args"
  _nats_kill "$dir"
  : >"$dir/nats.log"
  for _ in 1 2 3; do
    _nats_run "$dir" "$port" "${args[@]}" && { echo "$port"; return 0; }
    _nats_kill "$dir"
    sleep 0.5
  done
  return 1
}

start_nats() {
  local dir port tls_port
  dir=$(mktemp -d /tmp/typedjobs-nats.XXXXXX) || return 1
  TYPEDJOBS_NATS_DIR="$dir"
  port=$(_nats_server_start "$dir/plain") || { stop_nats; return 1; }
  export TYPEDJOBS_TEST_NATS="nats://127.0.0.1:$port"
  export TYPEDJOBS_TEST_NATS_SCRIPT
  TYPEDJOBS_TEST_NATS_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/nats.sh"
  if command -v openssl >/dev/null 2>&1; then
    mkdir -p "$dir/tls"
    if openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
         -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
         -keyout "$dir/tls/server.key" -out "$dir/tls/server.crt" >/dev/null 2>&1 \
       && tls_port=$(_nats_server_start "$dir/tls" --tls --tlscert "$dir/tls/server.crt" --tlskey "$dir/tls/server.key" \
                       --user typedjobs --pass typedjobs); then
      export TYPEDJOBS_TEST_NATS_TLS="tls://typedjobs:typedjobs@127.0.0.1:$tls_port"
      export TYPEDJOBS_TEST_NATS_TLS_CA="$dir/tls/server.crt"
    else
      echo "nats.sh: the TLS server did not start" >&2
    fi
  fi
  echo "nats: $(nats-server --version) on 127.0.0.1:$port${tls_port:+, TLS on 127.0.0.1:$tls_port} ($dir)"
}

# report_nats prints what the plain server warned about: a stream it failed to create names its reason only there.
report_nats() {
  local log="${TYPEDJOBS_NATS_DIR:-/nonexistent}/plain/nats.log"
  if grep -qE '\[(WRN|ERR)\]' "$log" 2>/dev/null; then
    echo "nats: the server's warnings and errors:"
    grep -E '\[(WRN|ERR)\]' "$log" | tail -n 20 | sed 's/^/nats:   /'
  fi
}

stop_nats() {
  if [ -n "${TYPEDJOBS_NATS_DIR:-}" ]; then
    _nats_server_stop "$TYPEDJOBS_NATS_DIR/plain"
    _nats_server_stop "$TYPEDJOBS_NATS_DIR/tls"
    rm -rf "$TYPEDJOBS_NATS_DIR"
    TYPEDJOBS_NATS_DIR=
  fi
  unset TYPEDJOBS_TEST_NATS TYPEDJOBS_TEST_NATS_TLS TYPEDJOBS_TEST_NATS_TLS_CA TYPEDJOBS_TEST_NATS_SCRIPT
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-}" in
    start) _nats_server_start "$2" ;;
    restart) _nats_server_restart "$2" ;;
    stop) _nats_server_stop "$2" ;;
    *) echo "usage: $0 start|restart|stop DIR" >&2; exit 2 ;;
  esac
fi
