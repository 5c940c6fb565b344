# Two network namespaces joined by one veth pair at MTU 1500, and the freeze rule of DESIGN §9.14
# between them: shared by freeze_sync.sh and bench/relay_links.sh. Needs root. Source after
# lib.bash and after defining skip(); call veth_up (sets TAG, RNS — the relay's side, 10.89.0.1,
# and CNS — the member's side, 10.89.0.2, each with interface wan0) and net_cleanup from the
# EXIT trap; freeze_on PORT LIMIT then adds the freeze in the member's namespace.
TAG="kf$$"
RNS="${TAG}relay"
CNS="${TAG}member"
net_cleanup() { ip netns del "$RNS" 2>/dev/null || true; ip netns del "$CNS" 2>/dev/null || true; }
veth_up() {
  ip netns add "$RNS" 2>"$WORK/netns.err" || skip "the kernel refused a network namespace: $(cat "$WORK/netns.err")"
  ip netns add "$CNS"
  ip link add "${TAG}r" type veth peer name "${TAG}c"
  ip link set "${TAG}r" netns "$RNS"
  ip link set "${TAG}c" netns "$CNS"
  ip -n "$RNS" link set "${TAG}r" name wan0
  ip -n "$CNS" link set "${TAG}c" name wan0
  for ns in "$RNS" "$CNS"; do
    ip -n "$ns" link set wan0 mtu 1500
    ip -n "$ns" link set wan0 up
    ip -n "$ns" link set lo up
  done
  ip -n "$RNS" addr add 10.89.0.1/24 dev wan0
  ip -n "$CNS" addr add 10.89.0.2/24 dev wan0
  # No offloads: the rule counts real 1500-byte packets, not 64 KiB super-packets.
  for ns in "$RNS" "$CNS"; do
    ip netns exec "$ns" ethtool -K wan0 tso off gso off gro off >/dev/null 2>&1 || true
  done
}
# freeze_on PORT LIMIT — the freeze, in the member's namespace: conntrack counts bytes per
# direction (accounting on), and once the relay's side (the reply direction of a connection the
# member opened to 10.89.0.1:PORT) has sent LIMIT bytes, every packet of that connection is
# dropped both ways. Table inet freeze: chain in counts the drops, counter dials the connections.
freeze_on() {
  local port=$1 limit=$2
  ip netns exec "$CNS" sysctl -qw net.netfilter.nf_conntrack_acct=1 2>/dev/null ||
    skip "conntrack accounting cannot be turned on in a namespace"
  ip netns exec "$CNS" nft -f - <<NFT || skip "nft refused the freeze rule"
table inet freeze {
  counter dials {}
  chain in {
    type filter hook input priority 0; policy accept;
    ip saddr 10.89.0.1 tcp sport $port ct reply bytes gt $limit counter drop
  }
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr 10.89.0.1 tcp dport $port ct state new counter name dials
    ip daddr 10.89.0.1 tcp dport $port ct reply bytes gt $limit counter drop
  }
}
NFT
}
# freeze_off — removes the freeze (the member's namespace then passes everything again).
freeze_off() { ip netns exec "$CNS" nft delete table inet freeze 2>/dev/null || true; }
