#!/bin/sh
# tests/bench/store.sh - time the report of a large monitor state (make bench-store); not a test.
#
#   sh tests/bench/store.sh [N...]     default: 30000 200000 1000000 clients
#
# In:  build/tlsready and build/bench/genstore (make bench-store builds both);
#      STORE_BENCH_TLSREADY=path times another binary (an older build, for "before").
# Out: one line per N on stdout: clients, usage rows, wall seconds, CPU seconds
#      (user + system) and peak RSS of `tlsready --db FILE` (text to /dev/null) and
#      of `--format json`.  Wall time depends on what else the machine runs; CPU less.  The
#      generated states live in $STORE_BENCH_DIR (default /tmp/tlsready-store-bench)
#      and are removed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${STORE_BENCH_TLSREADY:-$top/build/tlsready}
gen=$top/build/bench/genstore
dir=${STORE_BENCH_DIR:-/tmp/tlsready-store-bench}
mkdir -p "$dir"
trap 'rm -f "$dir"/state-*.db*' EXIT
[ $# -gt 0 ] || set -- 30000 200000 1000000
printf '%-9s %-9s %-30s %-30s\n' clients usage "text (wall s, CPU s, RSS KiB)" "json (wall s, CPU s, RSS KiB)"
for n in "$@"; do
	db=$dir/state-$n.db
	rm -f "$db" "$db-wal" "$db-shm" "$db.lock"
	"$gen" "$db" "$n" >/dev/null || exit 2
	usage=$(sqlite3 "$db" 'SELECT count(*) FROM inv_usage' 2>/dev/null || echo ?)
	t=$( { /usr/bin/time -f '%e %U %S %M' "$bin" --db "$db" >/dev/null; } 2>&1 | tail -1)
	j=$( { /usr/bin/time -f '%e %U %S %M' "$bin" --db "$db" --format json >/dev/null; } 2>&1 | tail -1)
	printf '%-9s %-9s %-30s %-30s\n' "$n" "$usage" "$(echo "$t" | awk '{printf "%s %.2f %s", $1, $2 + $3, $4}')" \
		"$(echo "$j" | awk '{printf "%s %.2f %s", $1, $2 + $3, $4}')"
	rm -f "$db" "$db-wal" "$db-shm" "$db.lock"
done
