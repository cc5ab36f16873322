#!/bin/sh
# tests/fuzz.sh - build the libFuzzer harnesses (make fuzz: clang, ASan,
# UBSan), as part of `make test`.  For each harness: replay every seed
# (tests/fuzz/seeds/NAME/) and every input of the kept corpus
# (tests/fuzz/corpus/NAME/, grown by `make fuzz-long`) once (-runs=0), then
# fuzz briefly from them.  FUZZ_SECONDS (default 8) bounds each brief run.
# Prints TAP lines.
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
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
fail=0
for h in build-fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	name=${h#build-fuzz/fuzz_}
	dirs=
	for d in "tests/fuzz/seeds/$name" "tests/fuzz/corpus/$name"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	n=$((n + 1))
	inputs=$(find $dirs /dev/null -type f 2>/dev/null | wc -l)
	if "$h" -runs=0 -timeout=10 -rss_limit_mb=2048 $dirs >/tmp/tlsready-fuzz-replay.log 2>&1; then
		echo "ok $n - replay $name seeds and corpus ($inputs inputs)"
	else
		echo "not ok $n - replay $name seeds and corpus ($inputs inputs)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' /tmp/tlsready-fuzz-replay.log | head -5 | sed 's/^/#   /'
		fail=1
	fi
	rm -f /tmp/tlsready-fuzz-replay.log
	n=$((n + 1))
	work=$(mktemp -d)
	for d in $dirs; do cp -r "$d/." "$work/" 2>/dev/null; done
	if "$h" -artifact_prefix="$work/" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$work" \
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
