#!/bin/sh
# tests/run.sh BUILD_DIR... - run every test against each build (plain,
# then sanitizers) and end with one line "N passed, N failed, N skipped".
#
# Unit tests are cmocka programs (BUILD/tests/test_*), run with TAP output.
# Integration tests are tests/integration/*.py, run with TLSREADY pointing at
# BUILD/tlsready; they print TAP lines too ("ok", "not ok", "ok # SKIP").
# The fuzz smoke runs (tests/fuzz.sh) come last when clang is present.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
# tshark's answers (the tests' independent truth) do not depend on the build under test: the
# sanitizer pass reuses the plain pass's (tests/integration/tap.py, tshark_run)
TLSREADY_TSHARK_CACHE=$(mktemp -d)
export TLSREADY_TSHARK_CACHE
trap 'rm -f "$log"; rm -rf "$TLSREADY_TSHARK_CACHE"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CMOCKA_MESSAGE_OUTPUT=TAP

run() {   # label, command...
	label=$1; shift
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | sed "s|^|[$label] |"
	printf '%s\n' "$out" | sed "s|^|$label |" >>"$log"
	# a program that died without a "not ok" line still counts as a failure
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "not ok - $label exited with status $rc" | tee -a "$log"
	fi
}

for b in "$@"; do
	for t in "$top/$b"/tests/test_*; do
		[ -x "$t" ] || continue
		run "$b/$(basename "$t")" "$t"
	done
	for py in "$top"/tests/integration/test_*.py; do
		[ -f "$py" ] || continue
		TLSREADY="$top/$b/tlsready" run "$b/$(basename "$py" .py)" python3 "$py"
	done
done
if [ -x "$top/tests/fuzz.sh" ]; then
	run fuzz sh "$top/tests/fuzz.sh"
fi

passed=$(grep -cE '^[^ ]+ ok( |$)' "$log" | tr -d ' ')
skipped=$(grep -cE '^[^ ]+ ok .*# *SKIP' "$log" | tr -d ' ')
failed=$(grep -cE '^[^ ]+ not ok' "$log" | tr -d ' ')
passed=$((passed - skipped))
echo
grep -E '^[^ ]+ not ok' "$log" | sed 's/^/FAILED: /'
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
