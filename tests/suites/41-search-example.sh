#!/bin/sh
# Search on the built example handbook: recall/precision of random Japanese
# substrings against the indexed text (Node, script-tag shim), and the
# queries of tests/search/example-queries.txt in headless Chromium over
# file:// and http://127.0.0.1 (tests/search/browser.test.mjs).
. "$ROOT/tests/lib.sh"
if ! command -v node >/dev/null 2>&1; then
	echo "node not found"; echo "0 passed, 1 failed"; exit 1
fi
S=$ROOT/tests/search
# adds a node test's own "N passed, N failed" to this suite's counts
add_counts() {
	line=$(printf '%s\n' "$3" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then t_bad "$1: no result line (exit $2)" "$(printf '%s\n' "$3" | tail -n 20)"; return; fi
	p=${line%% passed*}; f=${line#* passed, }; f=${f%% failed*}
	T_PASS=$((T_PASS + p)); T_FAIL=$((T_FAIL + f))
	[ "$f" -gt 0 ] && printf '%s\n' "$3" | grep FAIL | head -20
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && t_bad "$1: exit status $2"
	echo "$1: $line"
}
OUT=$T_TMP/site
TEBIKI_SEARCH_CORPUS=$T_TMP/corpus.json tk build -q -s "$ROOT" -o "$OUT" --today 2025-06-01 2>/dev/null
t_eq "example builds" $? 0
# the type facet speaks the site's language, though the first page and
# the first policy of the example are English documents
fac=$(cat "$OUT"/search/f/*.js)
t_contains "type facet: pages in Japanese" "$fac" '["page","ページ"'
t_contains "type facet: policies in Japanese" "$fac" '["policy","規程"'
t_lacks "type facet: no English type label" "$fac" '["page","Page"'
cp "$T_TMP/corpus.json" "$OUT/corpus.json"
out=$(SEARCH_REAL_SITE=1 node "$S/query.test.mjs" "$OUT" 2>&1); st=$?
echo "$out" | grep '^#'
add_counts "recall/precision on the example" $st "$out"
if [ ! -d "$S/node_modules/playwright-core" ]; then
	(cd "$S" && npm ci --no-audit --no-fund >"$T_TMP/npm.log" 2>&1) || tail -n 5 "$T_TMP/npm.log"
fi
out=$(cd "$S" && SEARCH_REAL_SITE=1 timeout 300 node browser.test.mjs "$OUT" "$S/example-queries.txt" 2>&1); st=$?
add_counts "browser queries over file:// and http" $st "$out"
t_done
