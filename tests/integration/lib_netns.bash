# Network namespaces joined by veth to one bridge (a LAN of our own), for the LAN tests. Needs
# root. Source after lib.bash and after defining skip(); call net_up SUBNET (e.g. 10.77.0), then
# join NAME N for each member (namespace $TAG$NAME, interface lan0 = SUBNET.N/24), and
# net_cleanup from the EXIT trap.
TAG="kn$$"
HUB="${TAG}hub"
NSES=()
NET_SUBNET=""
net_cleanup() {
  for ns in "${NSES[@]:-}"; do [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true; done
  ip netns del "$HUB" 2>/dev/null || true
}
net_up() {
  NET_SUBNET=$1
  ip netns add "$HUB" 2>"$WORK/netns.err" || skip "the kernel refused a network namespace: $(cat "$WORK/netns.err")"
  ip -n "$HUB" link add br0 type bridge || skip "cannot create a bridge in a namespace"
  # No IGMP snooping: the bridge floods multicast to every port, as a plain switch would.
  ip -n "$HUB" link set br0 type bridge mcast_snooping 0
  ip -n "$HUB" link set br0 up
}
join() {
  local ns="$TAG$1" n=$2
  ip netns add "$ns"; NSES+=("$ns")
  ip link add "${TAG}a$n" type veth peer name "${TAG}b$n"
  ip link set "${TAG}a$n" netns "$ns"
  ip link set "${TAG}b$n" netns "$HUB"
  ip -n "$ns" link set "${TAG}a$n" name lan0
  ip -n "$ns" addr add "$NET_SUBNET.$n/24" dev lan0
  ip -n "$ns" link set lan0 up
  ip -n "$ns" link set lo up
  ip -n "$HUB" link set "${TAG}b$n" master br0
  ip -n "$HUB" link set "${TAG}b$n" up
}
