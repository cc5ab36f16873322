#!/bin/sh
# tests/deps.sh PKG... - make sure these Debian packages are installed.
# As root, installs the missing ones with apt-get; otherwise prints the one
# command to run and fails.  Used by `make run` and `make test`.
missing=""
for p in "$@"; do
	# npm also comes with a nodejs that is not Debian's (NodeSource's, say): Debian's npm would
	# conflict with it, and its own npm serves as well
	case $p in npm) command -v npm >/dev/null 2>&1 && continue;; esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "tlsready: installing missing packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $missing >&2 && exit 0
	echo "tlsready: apt-get failed for:$missing" >&2
	exit 1
fi
echo "tlsready: missing Debian packages. Run:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
