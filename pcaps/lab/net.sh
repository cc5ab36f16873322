# net.sh - the lab's network: namespaces, veth pairs and one bridge (sourced by run.sh).
#
# In:  nothing but the constants below.  Out: namespaces tr-sw (the bridge tr-br0), tr-ibmi
# (the IBM i: 192.0.2.10, 2001:db8::10) and tr-c21..tr-c29, tr-c31..tr-c33 (clients 192.0.2.N;
# tr-c30 is impaired.py's, behind the shim; c21, 23, 25, 27 and 28 also get 2001:db8::N).
# Each host has one interface "eth0" whose peer "p-<host>" sits on the bridge in tr-sw.  Nothing
# is created in the root namespace, so traffic never leaves the lab.  lab_down deletes every
# namespace we made (the veths and bridge go with them).
# Offloads are off and the MTU is 1500 everywhere, so captured frames are real wire-sized frames.

LAB_NS_PREFIX=tr-
LAB_CLIENTS="21 22 23 24 25 26 27 28 29 31 32 33"
LAB_V6_CLIENTS="21 23 25 27 28"

ns() { ip netns exec "$@"; }

lab_nooffload() {  # ns dev
	ns "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
	ns "$1" ethtool -K "$2" sg off ufo off lro off >/dev/null 2>&1 || true
}

lab_sysctls() {  # ns
	ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0 \
		net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_timestamps=1 >/dev/null 2>&1 || true
	ns "$1" ip link set lo up
	lab_nooffload "$1" lo
}

# lab_host NAME IPV4 [IPV6]: a host namespace wired to the bridge.
lab_host() {
	n=$LAB_NS_PREFIX$1
	ip netns add "$n"
	lab_sysctls "$n"
	ip -n tr-sw link add "p-$1" type veth peer name eth0 netns "$n"
	ip -n tr-sw link set "p-$1" mtu 1500 master tr-br0 up
	ns "$n" ip link set eth0 mtu 1500 address "02:00:00:00:00:$(printf %02x "$2" | tail -c2)"
	lab_nooffload tr-sw "p-$1"
	lab_nooffload "$n" eth0
	ns "$n" ip link set eth0 up
	ns "$n" ip addr add "192.0.2.$2/24" dev eth0
	[ -n "${3:-}" ] && ns "$n" ip -6 addr add "2001:db8::$2/64" dev eth0 nodad
	return 0
}

lab_up() {
	ip netns add tr-sw
	lab_sysctls tr-sw
	ip -n tr-sw link add tr-br0 type bridge
	ns tr-sw sysctl -qw net.ipv6.conf.tr-br0.disable_ipv6=1 2>/dev/null || true
	ip -n tr-sw link set tr-br0 type bridge stp_state 0 forward_delay 0 ageing_time 30000
	ip -n tr-sw link set tr-br0 mtu 1500 up
	lab_host ibmi 10 v6
	for c in $LAB_CLIENTS; do
		v6=; case " $LAB_V6_CLIENTS " in *" $c "*) v6=v6;; esac
		lab_host "c$c" "$c" $v6
	done
	ns tr-ibmi ip -6 addr add ::1/128 dev lo 2>/dev/null || true
}

# lab_down: delete the lab's namespaces (and so every veth and the bridge inside them), not a
# test's own namespace running beside the lab (netlab.py names them PREFIX-PID: "tr-hst-4711").
lab_down() {
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$LAB_NS_PREFIX" | grep -vE -- '-[0-9]+$'); do
		ip netns pids "$n" 2>/dev/null | while read -r p; do kill "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null || true
	done
}

# lab_shim_host N: client tr-cN (192.0.2.N, 2001:db8::N) whose only path to the bridge goes through
# the namespace tr-shim (interfaces s-cli <-> s-br), where shim/shim.py forwards, drops and reorders.
lab_shim_host() {
	n=tr-c$1
	ip netns add tr-shim
	lab_sysctls tr-shim
	ip netns add "$n"
	lab_sysctls "$n"
	ip -n tr-shim link add s-cli type veth peer name eth0 netns "$n"
	ip -n tr-shim link add s-br type veth peer name "p-c$1" netns tr-sw
	ip -n tr-sw link set "p-c$1" mtu 1500 master tr-br0 up
	for d in s-cli s-br; do
		ns tr-shim sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1" 2>/dev/null || true
		ip -n tr-shim link set "$d" mtu 1500 promisc on up
		lab_nooffload tr-shim "$d"
	done
	lab_nooffload tr-sw "p-c$1"
	lab_nooffload "$n" eth0
	ns "$n" ip link set eth0 mtu 1500 address "02:00:00:00:00:$(printf %02x "$1")" up
	ns "$n" ip addr add "192.0.2.$1/24" dev eth0
	ns "$n" ip -6 addr add "2001:db8::$1/64" dev eth0 nodad
}
