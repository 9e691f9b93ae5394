#!/bin/sh
# Search: JS tokenizer vectors, queries against a written index under Node,
# and the UI in headless Chromium over file:// and http://127.0.0.1.
# Env (from tests/run.sh): ROOT, TEBIKI_BUILD.  Ends with "N passed, N failed".
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${TEBIKI_BUILD:-$ROOT/build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
S=$ROOT/tests/search
passed=0 failed=0 skipped=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

add() {	# $1: name, $2: exit status, $3: log
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$3" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $1: no result line (exit $2)"; tail -n 20 "$3"
		failed=$((failed + 1)); return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=0
	case $line in *skipped*) s=$(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/') ;; esac
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	[ "$f" -ne 0 ] && cat "$3"
	grep '^#' "$3"
	echo "$1: $line"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

if ! command -v node >/dev/null 2>&1; then
	echo "node not found: search tests skipped"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

node "$S/tokenizer.test.mjs" >"$tmp/log" 2>&1
add tokenizer $? "$tmp/log"

if "$B/tools/search_fixture" -n 200 -j "$ROOT/themes/default/assets/search.js" \
    "$tmp/big" >"$tmp/log" 2>&1; then
	node "$S/query.test.mjs" "$tmp/big" >"$tmp/log" 2>&1
	add query $? "$tmp/log"
else
	cat "$tmp/log"; echo "FAIL search_fixture"; failed=$((failed + 1))
fi

# format 2: positions of the largest terms in p/ files (a low split makes
# the small fixture have some); what queries load, and the same results
if "$B/tools/search_fixture" -n 200 -s 800 -j "$ROOT/themes/default/assets/search.js" \
    "$tmp/split" >"$tmp/log" 2>&1; then
	node "$S/query.test.mjs" "$tmp/split" >"$tmp/log" 2>&1
	add "query (positions apart)" $? "$tmp/log"
	node "$S/loading.test.mjs" "$tmp/big" "$tmp/split" >"$tmp/log" 2>&1
	add loading $? "$tmp/log"
else
	cat "$tmp/log"; echo "FAIL search_fixture -s"; failed=$((failed + 1))
fi

# format 3: a low head size splits many terms; the first k hits from the
# heads must be the whole search's first k
if "$B/tools/search_fixture" -n 200 -H 64 -j "$ROOT/themes/default/assets/search.js" \
    "$tmp/heads" >"$tmp/log" 2>&1; then
	node "$S/heads.test.mjs" "$tmp/heads" >"$tmp/log" 2>&1
	add "heads (top k)" $? "$tmp/log"
	node "$S/query.test.mjs" "$tmp/heads" >"$tmp/log" 2>&1
	add "query (heads and tails)" $? "$tmp/log"
else
	cat "$tmp/log"; echo "FAIL search_fixture -H"; failed=$((failed + 1))
fi

if [ ! -d "$S/node_modules/playwright-core" ]; then
	(cd "$S" && npm install --no-audit --no-fund >"$tmp/npm.log" 2>&1) ||
	    { echo "# npm install failed:"; tail -n 5 "$tmp/npm.log"; }
fi
if "$B/tools/search_fixture" -n 20 -j "$ROOT/themes/default/assets/search.js" \
    "$tmp/site" >"$tmp/log" 2>&1; then
	(cd "$S" && node browser.test.mjs "$tmp/site" "$S/fixture-queries.txt") >"$tmp/log" 2>&1
	add browser $? "$tmp/log"
	# the same UI on an index whose terms are split into heads and tails:
	# the dropdown and the first page come from the heads, the search
	# page then completes from the tails
	(cd "$S" && node browser.test.mjs "$tmp/heads" "$S/fixture-queries.txt") >"$tmp/log" 2>&1
	add "browser (heads and tails)" $? "$tmp/log"
else
	cat "$tmp/log"; echo "FAIL search_fixture"; failed=$((failed + 1))
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
