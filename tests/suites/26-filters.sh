#!/bin/sh
# Lua filter fixtures (tests/filters/*.md): element filters, site phases,
# errors; each fixture runs with 1 and with 3 worker threads and the output
# must be identical.  Then the C walker of topdown element filters against
# the Lua walker (tools/filter_fastdiff) over the GFM spec examples, the
# example content and the fixtures: the same HTML or the same failure.
set -u
B=${TEBIKI_BUILD:-build}
R=${ROOT:-.}
SPEC=${TEBIKI_GFM_SPEC:-${TEBIKI_SHARED:-$R/../shared}/conformance/gfm-spec}
tool=$B/tools/filter_fixture
diff_tool=$B/tools/filter_fastdiff
for t in "$tool" "$diff_tool"; do
	if [ ! -x "$t" ]; then
		echo "26-filters: '$t' is not built (make tools)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
out=$(${TEBIKI_VALGRIND:-} "$tool" "$R"/tests/filters/*.md)
rc1=$?
printf '%s\n' "$out" | sed '$d'
p1=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
f1=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
[ -n "$p1" ] || { p1=0; f1=1; }
specs=""
if [ -f "$SPEC/spec.txt" ] && [ -f "$SPEC/extensions.txt" ]; then
	specs="$SPEC/spec.txt $SPEC/extensions.txt"
	f3=0
else
	echo "26-filters: conformance data missing: '$SPEC/spec.txt' and" \
	    "'$SPEC/extensions.txt' are needed for the C walker comparison" \
	    "(set TEBIKI_GFM_SPEC or TEBIKI_SHARED)"
	f3=1
fi
# shellcheck disable=SC2086
out=$(${TEBIKI_VALGRIND:-} "$diff_tool" "$R" $specs \
    $(find "$R/content" -name '*.md' | sort) "$R"/tests/filters/*.md)
rc2=$?
printf '%s\n' "$out" | sed '$d'
p2=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
f2=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
[ -n "$p2" ] || { p2=0; f2=1; }
echo "filter_fastdiff: C walker = Lua walker: $p2 passed, $f2 failed"
[ "$rc1" -eq 0 ] || [ "$f1" -gt 0 ] || f1=1
[ "$rc2" -eq 0 ] || [ "$f2" -gt 0 ] || f2=1
echo "$((p1 + p2)) passed, $((f1 + f2 + f3)) failed"
[ $((f1 + f2 + f3)) -eq 0 ]
