# Sourced by ./test.sh and eng/faults.sh: starts the test servers of eng/servers/NAME.sh (each defines start_NAME and
# stop_NAME and exports what the tests read) and stops them when the calling script exits.
servers=()
for script in eng/servers/*.sh; do
  [ -f "$script" ] || continue
  # shellcheck source=/dev/null
  source "$script"
  servers+=("$(basename "$script" .sh)")
done
stop_servers() {
  for name in "${servers[@]}"; do "stop_$name" >/dev/null 2>&1 || true; done
}
trap stop_servers EXIT
for name in "${servers[@]}"; do
  "start_$name" || echo "servers: the $name server did not start; its tests will fail"
done
