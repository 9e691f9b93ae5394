#!/bin/sh
# Lua filter fixtures (tests/filters/*.md): element filters, site phases,
# errors; each fixture runs with 1 and with 3 worker threads and the output
# must be identical.
set -u
B=${TEBIKI_BUILD:-build}
R=${ROOT:-.}
tool=$B/tools/filter_fixture
if [ ! -x "$tool" ]; then
	echo "26-filters: '$tool' is not built (make tools)"
	echo "0 passed, 1 failed"
	exit 1
fi
${TEBIKI_VALGRIND:-} "$tool" "$R"/tests/filters/*.md
