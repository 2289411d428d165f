# Sourced by ./test.sh and eng/faults.sh: starts the test servers of eng/servers/NAME.sh (each defines start_NAME and
# stop_NAME and exports what the tests read) and stops them when the calling script exits.
servers=()
for script in eng/servers/*.sh; do
  [ -f "$script" ] || continue
  # shellcheck source=/dev/null
  source "$script"
  # Helpers such as ports.sh define no start_NAME: they are not servers.
  name=$(basename "$script" .sh)
  if declare -F "start_$name" >/dev/null; then servers+=("$name"); fi
done
stop_servers() {
  for name in "${servers[@]}"; do "stop_$name" >/dev/null 2>&1 || true; done
}
# report_servers: what the servers logged that explains a failed test (scripts that define report_NAME).
report_servers() {
  for name in "${servers[@]}"; do
    if declare -F "report_$name" >/dev/null; then "report_$name" || true; fi
  done
}
trap stop_servers EXIT
for name in "${servers[@]}"; do
  "start_$name" || echo "servers: the $name server did not start; its tests will fail"
done
