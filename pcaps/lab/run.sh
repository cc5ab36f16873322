#!/bin/sh
# run.sh - rebuild the lab captures (`make pcaps`).  Needs root; not part of `make test`.
#
# In: optional scenario names (default: all, see scenarios/run_all.py).  Out: pcaps/*.pcapng,
# pcaps/*.pcap, pcaps/*.truth.json, pcaps/secrets.json.  Builds what it needs into
# pcaps/lab/build/ (build.sh), brings the namespaces up (net.sh), runs the scenarios, and on any
# exit - success, failure or signal - deletes every tr- namespace it made (and with them the
# veths, the bridge and any process still inside).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then echo "run.sh: needs root (network namespaces)" >&2; exit 1; fi
for t in ip ethtool dumpcap tcpdump editcap tshark nft java javac npm openssl gnutls-cli keytool vsftpd slapd ldapwhoami curl ij dovecot; do
	command -v "$t" >/dev/null 2>&1 || { echo "run.sh: missing $t (apt-get install iproute2 ethtool tshark tcpdump nftables openjdk-17-jdk-headless npm openssl gnutls-bin vsftpd slapd ldap-utils curl derby-tools libderby-java libderbyclient-java default-jre-headless dovecot-pop3d)" >&2; exit 1; }
done
. "$here/net.sh"
cleanup() { trap - EXIT INT TERM; lab_down; }
trap cleanup EXIT
trap 'exit 130' INT TERM

sh "$here/build.sh"
lab_down
lab_up
/usr/bin/python3 "$here/scenarios/run_all.py" "$@"
sh "$here/tools/check.sh"
