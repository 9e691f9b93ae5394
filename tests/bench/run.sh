#!/bin/sh
# make bench: tebiki against Hugo and the cmark-gfm command on the same
# generated corpus (tests/tools/gencorpus.c), in one run on one machine.
# Prints figures and ratios; asserts nothing.
#
#   BENCH_SIZES="1000 10000"   page counts (add 100000 for the big run)
#   BENCH_RUNS=3               runs per figure (the median is printed)
#   BENCH_DIR=/tmp/...         where corpora are generated (kept)
#   BENCH_HUGO_MAX=10000       Hugo only up to this many pages (at 100,000
#                              it passed 20 GB of memory and did not end)
#
# After each size it prints the targets of issue #9 that apply to it,
# with the figures just measured and whether they hold.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${TEBIKI_BUILD:-$ROOT/build}
SIZES=${BENCH_SIZES:-1000 10000}
RUNS=${BENCH_RUNS:-3}
HUGO_MAX=${BENCH_HUGO_MAX:-10000}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tebiki-bench}
TK=$ROOT/tebiki
[ -x "$TK" ] || { echo "build tebiki first (make)"; exit 2; }
[ -x "$B/tools/gencorpus" ] || { echo "build the tools first (make tools)"; exit 2; }
mkdir -p "$DIR"

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure NAME CMD...: runs CMD $RUNS times under /usr/bin/time and prints
# "NAME wall user+sys maxrss_mb" (medians)
measure() {
	name=$1; shift
	: > "$DIR/times"
	i=0
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f "%e %U %S %M" -o "$DIR/t1" "$@" >/dev/null 2>"$DIR/err" || {
			echo "$name: failed"; tail -n 5 "$DIR/err"; return 1; }
		cat "$DIR/t1" >> "$DIR/times"
		i=$((i + 1))
	done
	wall=$(awk '{ print $1 }' "$DIR/times" | median)
	cpu=$(awk '{ print $2 + $3 }' "$DIR/times" | median)
	mem=$(awk '{ print $4 / 1024 }' "$DIR/times" | median)
	echo "$name $wall $cpu $mem"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.3f", a / b }'; }

# target TEXT VALUE OP LIMIT: "   target: TEXT: VALUE (OP LIMIT): met|not met"
# (VALUE "-": not measured)
target() {
	awk -v t="$1" -v v="$2" -v op="$3" -v l="$4" 'BEGIN {
	    if (v == "-") { printf "   target: %s: not measured\n", t; exit }
	    ok = (op == "<=") ? (v + 0 <= l + 0) : (op == "<") ? (v + 0 < l + 0) : (v + 0 >= l + 0)
	    printf "   target: %s: %s (%s %s): %s\n", t, v, op, l, ok ? "met" : "not met" }'
}

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); runs per figure: $RUNS (medians)"
printf '%-8s %-26s %9s %9s %9s %10s\n' pages tool wall_s cpu_s peak_MB pages/s
for n in $SIZES; do
	c=$DIR/c$n
	if [ ! -f "$c/.done" ]; then
		rm -rf "$c"
		"$B/tools/gencorpus" "$n" 1 "$c" || exit 1
		touch "$c/.done"
	fi
	mb=$(du -sm "$c/content" | cut -f1)
	rm -rf "$c/public" "$c/.tebiki-cache"
	# full builds: no render cache (every page filtered and rendered)
	tk=$(measure tebiki "$TK" build -q --no-cache -s "$c" -o "$c/public") || { echo "$tk"; continue; }
	set -- $tk; tk_w=$2; tk_c=$3; tk_m=$4
	printf '%-8s %-26s %9s %9s %9s %10s\n' "$n" "tebiki (filters+search)" "$tk_w" "$tk_c" "$tk_m" "$(awk -v n=$n -v w=$tk_w 'BEGIN { printf "%.0f", n / w }')"
	# with the render cache: a build that writes it, a build with nothing
	# changed, then builds after editing one page
	"$TK" build -q -s "$c" -o "$c/public" >/dev/null 2>&1
	tk2=$(measure tebiki-rebuild "$TK" build -q -s "$c" -o "$c/public")
	set -- $tk2; rb_w=$2; rb_m=$4
	f=$(ls "$c/content/procedures" | head -n 1)
	cp "$c/content/procedures/$f" "$DIR/saved.md"
	# every run edits the page again (the time includes one tiny append)
	tk3=$(measure tebiki-edit sh -c 'echo "編集した行 $$。" >> "$1" && exec "$2" build -q -s "$3" -o "$3/public"' sh "$c/content/procedures/$f" "$TK" "$c")
	cp "$DIR/saved.md" "$c/content/procedures/$f"
	set -- $tk3; ed_w=$2; ed_c=$3; ed_m=$4
	printf '%-8s %-26s %9s %9s %9s\n' "$n" "tebiki rebuild, no change" "$rb_w" "-" "$rb_m"
	printf '%-8s %-26s %9s %9s %9s\n' "$n" "tebiki rebuild, 1 edit" "$ed_w" "$ed_c" "$ed_m"
	# tebiki serve after an edit: the page served (by the previewer) and
	# the whole site rebuilt, from the moment the file is written
	sv_p=- sv_s=-
	if command -v node >/dev/null 2>&1; then
		sd=$DIR/serve; rm -rf "$sd"; mkdir -p "$sd"
		TMPDIR=$sd "$TK" serve -s "$c" --port 0 2>"$sd/log" &
		spid=$!
		i=0
		while ! grep -q "serving http" "$sd/log" 2>/dev/null && [ $i -lt 3000 ]; do
			sleep 0.1; i=$((i + 1))
		done
		so=$(ls -d "$sd"/tebiki-serve.* 2>/dev/null | head -n 1)/site
		sv=$(node "$ROOT/tests/bench/serve_edit.mjs" "$c/content/procedures/$f" \
		    "$so/procedures/${f%.md}.html" "$sd/log" "$RUNS") && set -- $sv && sv_p=$1 sv_s=$2
		# what the server and its previewer hold while they wait
		sv_rss=$(awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$spid/status 2>/dev/null)
		pv_rss=0
		for pp in $(pgrep -P "$spid" 2>/dev/null); do
			pv_rss=$((pv_rss + $(awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$pp/status 2>/dev/null || echo 0)))
		done
		kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
		cp "$DIR/saved.md" "$c/content/procedures/$f"
		printf '%-8s %-26s %9s\n' "$n" "serve: edit -> page shown" \
		    "$(awk -v v="$sv_p" 'BEGIN { print v == "-" ? v : v / 1000 }')"
		printf '%-8s %-26s %9s\n' "$n" "serve: edit -> site rebuilt" \
		    "$(awk -v v="$sv_s" 'BEGIN { print v == "-" ? v : v / 1000 }')"
		printf '%-8s %-26s %9s %9s %9s\n' "$n" "serve: idle MB (previewer)" "-" "-" "${sv_rss:--} (${pv_rss})"
	fi
	j1=$(measure tebiki-j1 "$TK" build -q --no-cache -j 1 -s "$c" -o "$c/public")
	set -- $j1
	printf '%-8s %-26s %9s %9s %9s\n' "$n" "tebiki -j 1" "$2" "$3" "$4"
	cm=$(measure cmark-gfm sh -c "cmark-gfm --extension table --extension strikethrough --extension autolink --extension tagfilter --extension tasklist '$c'/bodies/*.md")
	set -- $cm; cm_w=$2; cm_c=$3; cm_m=$4
	printf '%-8s %-26s %9s %9s %9s\n' "$n" "cmark-gfm command (bodies)" "$cm_w" "$cm_c" "$cm_m"
	# the floor: the same pages without the Lua filters and without the
	# search index (a site.yaml of its own over the same content)
	fl=$c/floor
	mkdir -p "$fl"
	[ -e "$fl/content" ] || ln -s ../content "$fl/content"
	printf 'title: floor\nlanguage: ja\noutput: public\nexcluded_links: text\nsearch: false\n' > "$fl/site.yaml"
	rm -rf "$fl/public"
	fl=$(measure tebiki-floor "$TK" build -q --no-cache -s "$fl" -o "$fl/public")
	set -- $fl; fl_w=$2
	printf '%-8s %-26s %9s %9s %9s\n' "$n" "tebiki, no filters/search" "$2" "$3" "$4"
	hu_w=- hu_m=- hs_w=- hs_m=-
	if command -v hugo >/dev/null 2>&1 && [ "$n" -gt "$HUGO_MAX" ]; then
		echo "$n       hugo: not run above $HUGO_MAX pages (BENCH_HUGO_MAX)"
	elif command -v hugo >/dev/null 2>&1; then
		hv=$(hugo version | sed 's/hugo v\([0-9.]*\).*/\1/')
		hu=$(measure hugo hugo --quiet --source "$c/hugo" --destination "$c/hugo-public")
		set -- $hu; hu_w=$2; hu_m=$4
		printf '%-8s %-26s %9s %9s %9s %10s\n' "$n" "hugo $hv, minimal" "$2" "$3" "$4" "$(awk -v n=$n -v w=$2 'BEGIN { printf "%.0f", n / w }')"
		# the same pages made into what tebiki makes of them, as far as
		# Hugo can (gencorpus.c, hugo_site())
		hs=$(measure hugo-site hugo --quiet --source "$c/hugo-site" --destination "$c/hugo-site-public")
		set -- $hs; hs_w=$2; hs_m=$4
		printf '%-8s %-26s %9s %9s %9s %10s\n' "$n" "hugo $hv, same site" "$2" "$3" "$4" "$(awk -v n=$n -v w=$2 'BEGIN { printf "%.0f", n / w }')"
	fi
	# where the time of a full build goes (one more run, TEBIKI_TIMING):
	# "tebiki: timing: NAME  MS ms  rss R MB  peak P MB[  heap H MB]"
	TEBIKI_TIMING=1 "$TK" build -q --no-cache -s "$c" -o "$c/public" 2>&1 >/dev/null |
	    awk -v n="$n" 'BEGIN { printf "   %s pages, phases (ms, peak MB):", n }
	        $1 == "tebiki:" && $2 == "timing:" && $NF == "MB" {
	            m = 0; peak = "-"
	            for (i = 4; i <= NF; i++) {
	                if ($i == "ms" && m == 0) m = i
	                if ($i == "peak") peak = $(i + 1)
	            }
	            if (m == 0) next
	            name = $3; for (i = 4; i < m - 1; i++) name = name " " $i
	            if ($3 == "gen:") { gen += $(m - 1); next }
	            ms = $(m - 1) + (name == "generated" ? gen : 0)
	            printf " %s %.0f/%s;", name, ms, peak }
	        END { print "" }'
	echo "   $n pages, $mb MB of Markdown: hugo/tebiki wall $(ratio "$hu_w" "$tk_w")x (same site $(ratio "$hs_w" "$tk_w")x), tebiki/cmark-gfm wall $(ratio "$tk_w" "$cm_w")x, tebiki/hugo memory $(ratio "$tk_m" "$hu_m")x (same site $(ratio "$tk_m" "$hs_m")x), without filters/search: hugo (same site)/tebiki wall $(ratio "$hs_w" "$fl_w")x, search $(find "$c/public/search" -type f | wc -l) files"
	# the targets of issue #9 (10,000 and 100,000 pages), against both
	# Hugo sites
	if [ "$n" -eq 10000 ]; then
		target "full build vs Hugo (minimal), hugo/tebiki wall" "$(ratio "$hu_w" "$tk_w")" ">=" 5
		target "full build vs Hugo (same site), hugo/tebiki wall" "$(ratio "$hs_w" "$tk_w")" ">=" 5
		target "full build vs the cmark-gfm command, tebiki/cmark-gfm wall" "$(ratio "$tk_w" "$cm_w")" "<=" 2
		target "peak memory vs Hugo's (minimal), tebiki/hugo" "$(ratio3 "$tk_m" "$hu_m")" "<=" 0.2
		target "peak memory vs Hugo's (same site), tebiki/hugo" "$(ratio3 "$tk_m" "$hs_m")" "<=" 0.2
		target "rebuild after editing one page, seconds" "$ed_w" "<=" 0.1
		target "tebiki serve: edited page shown, seconds" "$(awk -v v="$sv_p" 'BEGIN { print v == "-" ? v : v / 1000 }')" "<=" 0.1
	elif [ "$n" -eq 100000 ]; then
		target "full build, seconds" "$tk_w" "<" 30
		target "full build, peak MB" "$tk_m" "<" 4096
	fi
	# search budgets (#6): bytes a query loads, from the index just built
	if command -v node >/dev/null 2>&1; then
		node "$ROOT/tests/search/bench-queries.mjs" "$c/public" 2>&1 |
		    tail -n 1 | sed "s/^/   $n pages, search: /"
	fi
done
