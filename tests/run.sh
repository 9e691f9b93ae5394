#!/bin/sh
# The whole test suite.  Runs every unit test binary, then every suite in
# tests/suites/*.sh (in name order).  Each prints its own closing line
# "N passed, N failed[, N skipped]"; this script adds them up and ends with
# the same kind of line.  Exit status 1 when anything failed.
#
# Environment: TEBIKI_BUILD (build dir, default build), TEBIKI_VALGRIND
# (prefix for tebiki runs), TEBIKI_ONLY (run only suites matching a pattern).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${TEBIKI_BUILD:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
export ROOT TEBIKI_BUILD="$B" TEBIKI="$B/tebiki"
export TEBIKI_VALGRIND=${TEBIKI_VALGRIND:-}
export TEBIKI_SHARED=${TEBIKI_SHARED:-$ROOT/../shared}
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tally() {	# $1: name, $2: exit status; reads $log
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "== $1: no result line (exit $2)"
		tail -n 20 "$log"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=0
	case $line in *skipped*) s=$(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/') ;; esac
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "== $1: exit status $2 with no failure counted"
		tail -n 20 "$log"
		f=1
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	echo "== $1: $line"
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	case $name in *${TEBIKI_ONLY:-}*) ;; *) continue ;; esac
	(cd "$ROOT" && $TEBIKI_VALGRIND "$t") >"$log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && cat "$log"
	tally "$name" $rc
done

for s in "$ROOT"/tests/suites/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	case $name in *${TEBIKI_ONLY:-}*) ;; *) continue ;; esac
	(cd "$ROOT" && sh "$s") >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || [ -n "${TEBIKI_VERBOSE:-}" ]; then cat "$log"; fi
	tally "$name" $rc
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
