#!/bin/sh
# Fuzz regression: the three libFuzzer targets (tests/fuzz/fuzz_*.c) built
# with the normal compiler against the test build's libtebiki.a and a plain
# main() (tests/fuzz/driver.c), run over every checked-in corpus file and
# every reproducer in tests/fuzz/regress/ (named <target>-*), then
# pathological inputs under `timeout 20`: none may crash or hang.
. "$ROOT/tests/lib.sh"
B=${TEBIKI_BUILD:-$ROOT/build}
LIB=$B/libtebiki.a
F=$ROOT/tests/fuzz
CC=${CC:-cc}
if [ ! -f "$LIB" ]; then
	t_bad "library $LIB exists (run make first)"
	t_done; exit 1
fi
# an ASan/UBSan library (make check) needs the runtimes linked in
SAN=
if nm "$LIB" 2>/dev/null | grep -q '__asan_report'; then
	SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
fi
LIBS="$(pkg-config --libs libcmark-gfm yaml-0.1 lua5.4 libutf8proc) -lcmark-gfm-extensions -lpthread -lm"
CFL="-std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra -I$ROOT/generator $(pkg-config --cflags libcmark-gfm)"
for t in frontmatter page template; do
	# shellcheck disable=SC2086
	if out=$($CC $CFL $SAN -o "$T_TMP/fuzz_$t" "$F/fuzz_$t.c" "$F/driver.c" "$LIB" $LIBS 2>&1); then
		t_ok "build fuzz_$t"
	else
		t_bad "build fuzz_$t" "$out"
	fi
done

# --- corpora and reproducers ----------------------------------------------
# run NAME TARGET FILE...: one process over the files, must exit 0
run() {
	name=$1 t=$2; shift 2
	out=$(timeout 20 "$T_TMP/fuzz_$t" "$@" 2>&1); st=$?
	if [ $st -eq 0 ]; then t_ok "$name"; else
		t_bad "$name (exit $st)" "$(printf '%s\n' "$out" | tail -n 15)"; fi
}
for t in frontmatter page template; do
	n=$(ls "$F/corpus/$t" | wc -l)
	[ "$n" -ge 20 ] && t_ok "corpus $t has $n seeds" || t_bad "corpus $t has at least 20 seeds" "$n"
	run "corpus $t" $t "$F/corpus/$t"
	for r in "$F"/regress/$t-*; do
		[ -f "$r" ] || continue
		run "regress $(basename "$r")" $t "$r"
	done
done

# --- pathological inputs ---------------------------------------------------
P=$T_TMP/patho; mkdir -p "$P"
# pat NAME TARGET FILE: must finish within 20 s with exit 0; sets $out
pat() {
	out=$(TEBIKI_FUZZ_PRINT=1 timeout 20 "$T_TMP/fuzz_$2" "$3" 2>&1); st=$?
	if [ $st -eq 0 ]; then t_ok "$1"; else
		t_bad "$1 (exit $st$( [ $st -eq 124 ] && echo ', timeout'))" "$(printf '%s\n' "$out" | tail -n 10)"; fi
}
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "{{#a}}"; printf "x"; for (i = 0; i < 30000; i++) printf "{{/a}}" }' > "$P/sections"
pat "30000 nested sections" template "$P/sections"
t_contains "nested sections refused" "$out" "error: sections nested deeper than"
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "{{#a}}" }' > "$P/sections-open"
pat "30000 unclosed sections" template "$P/sections-open"
t_contains "unclosed sections reported" "$out" "error:"
awk 'BEGIN { printf "@"; for (i = 0; i < 100000; i++) printf "[" }' > "$P/brackets"
pat "100000 [" page "$P/brackets"
t_contains "100000 [ rendered as text" "$out" "html 10000"
awk 'BEGIN { printf "@"; for (i = 0; i < 50000; i++) printf "[a]("; }' > "$P/links"
pat "50000 open links" page "$P/links"
awk 'BEGIN { printf "@"; for (i = 0; i < 50000; i++) printf ">"; print " x" }' > "$P/quotes"
pat "50000 nested >" page "$P/quotes"
awk 'BEGIN { printf "@"; for (i = 0; i < 50000; i++) printf "> "; print "# h" }' > "$P/quotes-heading"
pat "50000 nested > with a heading" page "$P/quotes-heading"
t_contains "heading inside deep quotes found" "$out" "headings 1 "
awk 'BEGIN { printf "@"; for (i = 0; i < 100000; i++) printf "情報*x* "; print "" }' > "$P/line"
size=$(wc -c < "$P/line"); [ "$size" -gt 1000000 ] && t_ok "long line over 1 MB" || t_bad "long line over 1 MB" "$size"
pat "1 MB single line (page)" page "$P/line"
t_contains "1 MB line rendered" "$out" "headings 0 html"
awk 'BEGIN { printf "P---\ntitle: \""; for (i = 0; i < 100000; i++) printf "手引き"; print "\"\n---" }' > "$P/fmline"
pat "1 MB front matter line" frontmatter "$P/fmline"
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{{site.lang}}"; print "" }' > "$P/tline"
pat "1 MB single template line" template "$P/tline"
t_contains "1 MB template line rendered" "$out" "t 400001"
awk 'BEGIN { printf "Yk: "; for (i = 0; i < 5000; i++) printf "["; for (i = 0; i < 5000; i++) printf "]"; print "" }' > "$P/flow"
pat "5000 nested flow sequences" frontmatter "$P/flow"
t_contains "deep YAML refused" "$out" "error: nesting deeper than"
awk 'BEGIN { printf "P---\nk: "; for (i = 0; i < 5000; i++) printf "{a: "; for (i = 0; i < 5000; i++) printf "}"; print "\n---\nbody" }' > "$P/flowmap"
pat "5000 nested flow maps in front matter" frontmatter "$P/flowmap"
t_contains "deep front matter refused" "$out" "error: nesting deeper than"
# quadratic traps (fixed): equal headings, huge maps, many anchors
awk 'BEGIN { printf "@"; for (i = 0; i < 20000; i++) print "# a\n" }' > "$P/heads"
pat "20000 equal headings" page "$P/heads"
t_contains "20000 headings found" "$out" "headings 20000 "
awk 'BEGIN { printf "Y"; for (i = 0; i < 100000; i++) printf "key%d: v\n", i; print "key99999: dup" }' > "$P/keys"
pat "100000 keys in one map" frontmatter "$P/keys"
t_contains "duplicate among 100000 keys found" "$out" "100001:1: error: duplicate key 'key99999' (first defined at line 100000)"
awk 'BEGIN { printf "Y"; for (i = 0; i < 100000; i++) printf "- &a%d x\n", i; for (i = 0; i < 5000; i++) printf "- *a%d\n", i * 7; print "- *nope" }' > "$P/anchors"
pat "100000 anchors, 5000 aliases" frontmatter "$P/anchors"
t_contains "unknown alias among many anchors" "$out" "error: unknown alias '*nope'"

# --- model.c each_item: comma strings with Japanese text ------------------
# strcspn(s, ",、") stopped at any byte of U+3001, dropping kana and
# reading past the end of strings ending in a 0x80/0x81 byte (ASan).
S=$T_TMP/jsplit; mkdir -p "$S/content"
printf -- '---\ntitle: t\nrelated: "ポリシー、恁"\n---\nx\n' > "$S/content/a.md"
out=$(timeout 20 $TEBIKI_VALGRIND "$TEBIKI" check -s "$S" 2>&1)
t_contains "kana item of a comma string kept" "$out" "content/a.md:3:11: error: unknown document id 'ポリシー' in 'related'"
t_contains "last item after 、 kept whole" "$out" "content/a.md:3:16: error: unknown document id '恁' in 'related'"
t_lacks "no sanitizer report" "$out" "Sanitizer"
t_done
