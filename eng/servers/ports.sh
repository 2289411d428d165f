# Sourced by the server scripts.
# The lowest port the kernel hands out as a connection's source port (32768 unless configured otherwise). Servers
# take ports below it: a client reconnecting to a stopped server's port on loopback can be given that very port as its
# source and connect to itself, and then the restarted server cannot bind it.
_ephemeral_low() {
  local low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
  if [ -z "$low" ] || [ "$low" -le 11000 ]; then low=32768; fi
  echo "$low"
}
