#!/bin/sh
# make fuzz: builds the libFuzzer targets with clang and runs each for
# FUZZ_TIME seconds ($1, default 60), two at a time.
#
#   sh tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# The library is compiled with clang -fsanitize=fuzzer-no-link,address,
# undefined into build-fuzz/ (the normal build/ is left alone).  Each run
# starts from a temporary copy of tests/fuzz/corpus/<target> (the checked-in
# corpus never grows by itself) plus the target's dictionary.  Per target it
# prints executions, exec/s, coverage at start and end, new corpus units and
# any crash (leak, sanitizer report, timeout) with the reproducer path under
# build-fuzz/artifacts/.  Exit status 1 when any target found a problem,
# 2 when the build failed.
#
# Environment: FUZZ_JOBS (targets run at once, default 2), FUZZ_KEEP=DIR
# (keep logs and the grown corpora in DIR), CC_FUZZ (default clang).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TIME=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-frontmatter page template}
JOBS=${FUZZ_JOBS:-2}
CC_FUZZ=${CC_FUZZ:-clang}
B=build-fuzz
FSAN="-fsanitize=address,undefined -fno-sanitize-recover=all"

cd "$ROOT" || exit 2
command -v "$CC_FUZZ" >/dev/null 2>&1 || { echo "fuzz: $CC_FUZZ not found" >&2; exit 2; }

# The library, through the ordinary Makefile rules with another build dir.
make --no-print-directory -s B=$B CC="$CC_FUZZ" \
    CFLAGS="-g -O1 -fno-omit-frame-pointer -Wno-format-nonliteral -fsanitize=fuzzer-no-link $FSAN" \
    $B/libtebiki.a || exit 2
LIBS="$(pkg-config --libs libcmark-gfm yaml-0.1 lua5.4 libutf8proc) -lcmark-gfm-extensions -lpthread -lm"
CFL="-std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer -Igenerator $(pkg-config --cflags libcmark-gfm)"
mkdir -p $B/fuzz $B/artifacts
for t in $TARGETS; do
	# shellcheck disable=SC2086
	$CC_FUZZ $CFL -fsanitize=fuzzer $FSAN -o $B/fuzz/fuzz_$t \
	    tests/fuzz/fuzz_$t.c $B/libtebiki.a $LIBS || exit 2
done

WORK=${FUZZ_KEEP:-}
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/tebiki-fuzz.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

maxlen() {
	case $1 in
	frontmatter) echo 16384 ;;
	page) echo 65536 ;;
	*) echo 8192 ;;
	esac
}

# Runs one target in the background-able form; writes $WORK/$t.log.
run_one() {
	t=$1
	rm -rf "$WORK/corpus-$t"
	mkdir -p "$WORK/corpus-$t"
	cp tests/fuzz/corpus/$t/* "$WORK/corpus-$t/" 2>/dev/null
	dict=
	[ -f tests/fuzz/$t.dict ] && dict=tests/fuzz/$t.dict
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	$B/fuzz/fuzz_$t -max_total_time="$TIME" -max_len="$(maxlen "$t")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    ${dict:+"-dict=$dict"} \
	    -artifact_prefix="$ROOT/$B/artifacts/$t-" \
	    "$WORK/corpus-$t" >"$WORK/$t.log" 2>&1
	echo $? >"$WORK/$t.rc"
}

n=0
for t in $TARGETS; do
	echo "fuzz: $t for ${TIME}s"
	run_one "$t" &
	n=$((n + 1))
	if [ $n -ge "$JOBS" ]; then
		wait
		n=0
	fi
done
wait

# "stat::number_of_executed_units: 123" -> 123
getstat() { sed -n "s/^stat::$1: *//p" "$WORK/$2.log" | tail -n 1; }
# the "cov: N" field of the first line matching $1
cov() { grep -E "$1" "$WORK/$2.log" | head -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p'; }

bad=0
for t in $TARGETS; do
	rc=$(cat "$WORK/$t.rc" 2>/dev/null || echo 99)
	c0=$(cov 'INITED' "$t"); c1=$(grep -E '^#[0-9]+.*cov:' "$WORK/$t.log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	printf '%-12s executions %s, exec/s %s, coverage %s -> %s (+%s), new units %s, peak rss %s MB\n' \
	    "$t" "$(getstat number_of_executed_units "$t")" \
	    "$(getstat average_exec_per_sec "$t")" "${c0:-?}" "${c1:-?}" \
	    "$(( ${c1:-0} - ${c0:-0} ))" "$(getstat new_units_added "$t")" \
	    "$(getstat peak_rss_mb "$t")"
	if [ "$rc" -ne 0 ]; then
		bad=1
		echo "$t: FAILED (exit $rc)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|.*Test unit written to)' "$WORK/$t.log" | head -n 10 | sed 's/^/    /'
		echo "    reproduce: $B/fuzz/fuzz_$t REPRODUCER; then copy it to tests/fuzz/regress/$t-NAME"
	fi
done
[ -n "${FUZZ_KEEP:-}" ] && echo "logs and corpora in $WORK"
exit $bad
