#!/bin/sh
# check.sh - after a lab run: every capture in pcaps/ has a truth file, tshark agrees with each
# truth's flow list (tools/check.py), and the whole set stays under 20 MB.
# In: pcaps/*.pcap*, pcaps/*.truth.json.  Out: one summary line per capture; exit 1 on any problem.
here=$(cd "$(dirname "$0")/../.." && pwd)
rc=0
for f in "$here"/*.pcapng "$here"/*.pcap; do
	[ -e "$f" ] || continue
	t=${f%.*}.truth.json
	if [ ! -f "$t" ]; then echo "check: no truth for $f"; rc=1; continue; fi
	out=$(/usr/bin/python3 "$here/lab/tools/check.py" "$f" "$t" 2>/dev/null) || rc=1
	echo "$out" | sed "s|$here/||"
done
kb=$(cat "$here"/*.pcapng "$here"/*.pcap 2>/dev/null | wc -c)
echo "check: captures total $((kb / 1024)) KiB"
[ "$kb" -lt 20000000 ] || { echo "check: over 20 MB"; rc=1; }
chmod 644 "$here"/*.pcap "$here"/*.pcapng "$here"/*.json 2>/dev/null
exit $rc
