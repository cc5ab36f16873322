#!/bin/sh
# tests/fuzz.sh - build the libFuzzer harnesses (make fuzz: clang, ASan,
# UBSan) and run each one briefly from its seed corpus, as part of
# `make test`.  FUZZ_SECONDS (default 8) bounds each run.  Prints TAP lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
secs=${FUZZ_SECONDS:-8}
n=0
if ! command -v clang >/dev/null 2>&1; then
	echo "ok 1 - fuzz smoke runs # SKIP clang is not installed"
	exit 0
fi
if ! make -s fuzz >/tmp/tlsready-fuzz-build.log 2>&1; then
	echo "not ok 1 - make fuzz builds the harnesses"
	sed 's/^/#   /' /tmp/tlsready-fuzz-build.log | tail -20
	exit 1
fi
fail=0
for h in build-fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	name=${h#build-fuzz/fuzz_}
	n=$((n + 1))
	work=$(mktemp -d)
	[ -d "tests/fuzz/seeds/$name" ] && cp -r "tests/fuzz/seeds/$name/." "$work/" 2>/dev/null
	if "$h" -artifact_prefix="$work/" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" \
		>"$work.log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$')
		echo "ok $n - fuzz $name for ${secs}s without a crash ${runs:+($runs runs)}"
	else
		echo "not ok $n - fuzz $name found a crash"
		grep -E 'ERROR|SUMMARY|runtime error' "$work.log" | head -5 | sed 's/^/#   /'
		fail=1
	fi
	rm -rf "$work" "$work.log"
done
echo "1..$n"
exit $fail
