#!/bin/sh
# tests/fuzz-long.sh [NAME...] - the standing fuzz campaign (make fuzz-long).
#
# In: the harnesses built by `make fuzz` (build-fuzz/fuzz_*), their seeds
# (tests/fuzz/seeds/NAME/) and the kept corpus (tests/fuzz/corpus/NAME/).
# Each harness (all, or the NAMEs given) fuzzes for FUZZ_LONG_SECONDS
# (default 600; FUZZ_LONG_SECONDS_NAME overrides it for one, e.g.
# FUZZ_LONG_SECONDS_capture=1800), under nice -n 19, one process at a time.
# A crash does not end the harness's turn: the input is saved under
# build-fuzz/crashes/NAME/, its ASan/UBSan summary printed, and fuzzing
# starts again from the corpus for the time left.
# Out: the corpus, minimised (-merge=1 into a fresh directory, seeds
# subtracted so only what the seeds do not already cover is kept; edges
# only if it is over FUZZ_CORPUS_KIB, default 300, and then the largest
# inputs dropped until it fits), back in
# tests/fuzz/corpus/NAME/ for git and for `make test` to replay; one line
# per harness with executions (stat::number_of_executed_units), crashes
# and corpus size; the same lines in build-fuzz/fuzz-long.log.  Exit 1 if
# any harness crashed.
#
# Why the seeds are subtracted: they are replayed anyway, and it keeps the
# corpus in git small (the capture seeds alone are ~400 KB).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
secs=${FUZZ_LONG_SECONDS:-600}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
command -v clang >/dev/null 2>&1 || { echo "fuzz-long: clang is not installed (make deps-test)"; exit 2; }
make -s fuzz || exit 2
log=build-fuzz/fuzz-long.log
: >"$log"
names=$*
[ -n "$names" ] || names=$(for h in build-fuzz/fuzz_*; do [ -x "$h" ] && echo "${h#build-fuzz/fuzz_}"; done)
total_crashes=0

for name in $names; do
	h=build-fuzz/fuzz_$name
	[ -x "$h" ] || { echo "fuzz-long: no harness $h"; exit 2; }
	want=$(eval echo "\${FUZZ_LONG_SECONDS_$name:-$secs}")
	corpus=tests/fuzz/corpus/$name
	seeds=tests/fuzz/seeds/$name
	crashes=build-fuzz/crashes/$name
	mkdir -p "$corpus" "$seeds" "$crashes"
	work=$(mktemp -d)
	cp -r "$corpus/." "$work/" 2>/dev/null
	execs=0 ncrash=0 start=$(date +%s)
	# inputs up to 16 KiB, 8 KiB for whole captures (a few connections' first
	# packets; longer seeds are cut, and still replayed whole by make test), and
	# a corpus of at most FUZZ_CORPUS_KIB (default 300) per harness
	maxlen=16384
	[ "$name" = capture ] && maxlen=8192
	maxlen=${FUZZ_MAX_LEN:-$maxlen}
	budget=${FUZZ_CORPUS_KIB:-300}
	while :; do
		left=$((want - ($(date +%s) - start)))
		[ "$left" -gt 2 ] || break
		# -entropic=0: the entropic scheduler's bookkeeping took half the time of fuzz_capture
		nice -n 19 "$h" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen \
			-entropic=0 -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$seeds" \
			>"$work.log" 2>&1
		rc=$?
		n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$' | tail -1)
		execs=$((execs + ${n:-0}))
		[ $rc -eq 0 ] && break
		ncrash=$((ncrash + 1))
		art=$(grep -o 'Test unit written to .*' "$work.log" | sed 's/Test unit written to //' | tail -1)
		echo "fuzz-long: $name crashed (exit $rc), input ${art:-not saved}:"
		grep -E 'ERROR:|SUMMARY:|runtime error|^    #[0-9] ' "$work.log" | head -12 | sed 's/^/#   /'
		tail -200 "$work.log" >"${art:-$crashes/crash-unsaved}.log"   # the report, not the progress lines
		[ $ncrash -ge 20 ] && { echo "fuzz-long: $name: 20 crashes, giving up its turn"; break; }
	done
	took=$(($(date +%s) - start))
	# minimise: merge into a fresh directory holding the seeds, then take the seeds out;
	# over the budget, again counting edges only (-use_counters=0), which keeps fewer inputs
	merged=
	for counters in 1 0; do
		fresh=$(mktemp -d)
		cp -r "$seeds/." "$fresh/" 2>/dev/null
		if ! nice -n 19 "$h" -merge=1 -use_counters=$counters -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen \
			"$fresh" "$work" >"$work.merge.log" 2>&1; then
			echo "fuzz-long: $name: merge failed, corpus left as it was"
			tail -5 "$work.merge.log" | sed 's/^/#   /'
			rm -rf "$fresh"
			break
		fi
		(cd "$seeds" && find . -type f) | while read -r s; do rm -f "$fresh/$s"; done
		# libFuzzer names merged inputs by SHA-1: a seed copied in under its own name is a duplicate too
		for s in "$seeds"/*; do [ -f "$s" ] && rm -f "$fresh/$(sha1sum <"$s" | cut -c1-40)"; done
		rm -rf "$merged"
		merged=$fresh
		[ "$(cat "$fresh"/* 2>/dev/null | wc -c)" -le $((budget * 1024)) ] && break
	done
	dropped=0
	if [ -n "$merged" ]; then
		# still over: the largest inputs go (merging already preferred small ones)
		while [ "$(cat "$merged"/* 2>/dev/null | wc -c)" -gt $((budget * 1024)) ]; do
			rm -f "$(ls -S "$merged" | head -1 | sed "s|^|$merged/|")"
			dropped=$((dropped + 1))
		done
		rm -rf "$corpus" && mkdir -p "$corpus" && cp -r "$merged/." "$corpus/"
		rm -rf "$merged"
	fi
	files=$(find "$corpus" -type f | wc -l)
	kib=$(($(cat "$corpus"/* 2>/dev/null | wc -c) / 1024))
	line="$name: $execs executions in ${took}s, $ncrash crashes, corpus $files files ${kib} KiB"
	[ $dropped -gt 0 ] && line="$line ($dropped largest dropped for the budget)"
	echo "$line" | tee -a "$log"
	total_crashes=$((total_crashes + ncrash))
	rm -rf "$work" "$work.log" "$work.merge.log"
done
echo "fuzz-long: corpus total $(($(cat tests/fuzz/corpus/*/* 2>/dev/null | wc -c) / 1024)) KiB, $total_crashes crashes" | tee -a "$log"
[ $total_crashes -eq 0 ]
