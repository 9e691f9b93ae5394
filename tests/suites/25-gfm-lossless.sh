#!/bin/sh
# Every example of the GFM spec (spec.txt + extensions.txt) renders to the
# same bytes with and without a forced round trip through Lua elements.
set -u
B=${TEBIKI_BUILD:-build}
SPEC=${TEBIKI_GFM_SPEC:-${TEBIKI_SHARED:-${ROOT:-.}/../shared}/conformance/gfm-spec}
tool=$B/tools/gfm_roundtrip
if [ ! -f "$SPEC/spec.txt" ] || [ ! -f "$SPEC/extensions.txt" ]; then
	echo "25-gfm-lossless: conformance data missing: '$SPEC/spec.txt' and" \
	    "'$SPEC/extensions.txt' are needed (set TEBIKI_GFM_SPEC or TEBIKI_SHARED)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$tool" ]; then
	echo "25-gfm-lossless: '$tool' is not built (make tools)"
	echo "0 passed, 1 failed"
	exit 1
fi
${TEBIKI_VALGRIND:-} "$tool" "$SPEC/spec.txt" "$SPEC/extensions.txt"
