#!/bin/sh
# The default theme on the real example handbook, in headless Chromium
# (tests/browser/theme.mjs): screenshots at desktop and phone widths,
# axe-core (no serious or critical violation), html-validate (no error),
# the stylesheet applied under the Content-Security-Policy, no request
# leaving the disk.
. "$ROOT/tests/lib.sh"
BR=$ROOT/tests/browser
if ! command -v node >/dev/null 2>&1; then echo "node is missing"; echo "0 passed, 1 failed"; exit 1; fi
if [ ! -d "$BR/node_modules/playwright-core" ]; then
	(cd "$BR" && npm ci --no-audit --no-fund >"$T_TMP/npm" 2>&1) || tail -n 5 "$T_TMP/npm"
fi
OUT=$T_TMP/site
tk build -q -s "$ROOT" -o "$OUT" --today 2025-06-01 2>/dev/null; t_eq "example builds" $? 0
# home sections: the newest documents first, and a link to the whole list
# when there are more than the six shown
dates=$(tr -d '\n' < "$OUT/index.html" | sed 's|<section class="doc-group">|\n&|g' | grep '^<section class="doc-group">' | grep 'href="policies/' | head -n 1 |
    grep -o 'doc-date">[0-9-]*' | sed 's/doc-date">//')
t_eq "home: policies newest first" "$dates" "$(printf '%s\n' "$dates" | sort -r)"
t_eq "home: six policies shown" "$(printf '%s\n' "$dates" | grep -c .)" 6
t_contains "home: the newest policy is among them" "$dates" "$(grep -h '^date:\|^effective:' "$ROOT"/content/policies/*.md | sed 's/.*: *//' | sort -r | head -n 1)"
t_contains "home: a link to every policy" "$(cat "$OUT/index.html")" '<p class="doc-group-more"><a href="policies/index.html">すべて見る</a></p>'
# the home page's coverage figure counts controls any policy or procedure
# implements, as the control index does, and says so
cov=$(sed -n 's|.*実装文書のある管理策: <strong>\([0-9]*\)</strong>.*|\1|p' "$OUT/controls/index.html")
t_contains "home: the coverage figure is named for what it counts" "$(tr -d '\n' < "$OUT/index.html")" "実装文書のある管理策"
t_lacks "home: not called controls with procedures" "$(cat "$OUT/index.html")" "手順のある管理策"
[ -n "$cov" ] && t_contains "home: the same figure as the control index" "$(tr -d '\n' < "$OUT/index.html" | sed 's/<[^>]*>/ /g' | tr -s ' ')" " $cov 実装文書のある管理策" || t_bad "control index coverage figure" "$cov"
out=$(cd "$BR" && SCREENSHOTS="$ROOT/tests/out/screenshots/example" timeout 600 node theme.mjs "$OUT" \
	index.html policies/backup.html procedures/backup.html reports/2023-12-ransomware-review.html \
	lessons/LL-2023-01.html controls/8.13.html controls/index.html soa.html dashboard.html \
	search.html glossary/index.html en/basic-policy.html 404.html 2>&1); st=$?
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -z "$line" ]; then t_bad "theme.mjs ran" "$(printf '%s\n' "$out" | tail -n 20)"; else
	p=${line%% passed*}; f=${line#* passed, }; f=${f%% failed*}
	T_PASS=$((T_PASS + p)); T_FAIL=$((T_FAIL + f))
	[ "$f" -gt 0 ] && printf '%s\n' "$out" | grep -A3 '^FAIL' | head -40
	[ $st -ne 0 ] && [ "$f" -eq 0 ] && t_bad "theme.mjs exit status $st"
fi
n=$(ls "$ROOT/tests/out/screenshots/example" 2>/dev/null | grep -c png)
[ "$n" -ge 20 ] && t_ok "screenshots saved ($n)" || t_bad "screenshots saved" "$n"
t_done
