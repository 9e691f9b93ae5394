#!/bin/sh
# The example handbook end to end: the handbook model (controls, references,
# SoA), lifecycle states, theme overrides, determinism of the full site.
. "$ROOT/tests/lib.sh"
OUT=$T_TMP/site
err=$(tk build -s "$ROOT" -o "$OUT" --today 2025-06-01 2>&1); st=$?
t_eq "example builds" $st 0
t_lacks "example has no errors" "$err" "error:"
for f in $(cd "$ROOT/content" && find . -name '*.md' | sed 's/\.md$//'); do
	[ -f "$OUT/$f.html" ] || t_bad "page for content/$f.md" "missing $OUT/$f.html"
done
t_ok "every content page has its .html"
t_file "home page" "$OUT/index.html"

# --- control 8.13 and the backup procedure -------------------------------
c=$(cat "$OUT/controls/8.13.html")
t_contains "8.13 lists the backup policy" "$c" 'href="../policies/backup.html"'
t_contains "8.13 lists the backup procedure" "$c" 'href="../procedures/backup.html"'
t_contains "8.13 lists the lesson" "$c" 'href="../lessons/LL-2023-01.html"'
p=$(cat "$OUT/procedures/backup.html")
t_contains "procedure links 8.13" "$p" 'href="../controls/8.13.html"'
t_contains "procedure shows what references it" "$p" 'class="referenced-by"'
t_contains "procedure referenced by the lesson" "$p" 'href="../lessons/LL-2023-01.html"'
pol=$(cat "$OUT/policies/backup.html")
t_contains "policy lists its procedure" "$pol" 'href="../procedures/backup.html"'

# --- Statement of Applicability -----------------------------------------
rows=$(grep -c '<tr><th scope="row">' "$OUT/soa.html")
t_eq "SoA HTML has 93 rows" "$rows" 93
lines=$(grep -c . "$OUT/soa.csv")
t_eq "SoA CSV has 93 rows and a header" "$lines" 94
bom=$(head -c 3 "$OUT/soa.csv" | od -An -tx1 | tr -d ' ')
t_eq "SoA CSV starts with a UTF-8 BOM" "$bom" efbbbf
t_contains "SoA CSV row for 8.13" "$(cat "$OUT/soa.csv")" "8.13,"
n=$(ls "$OUT/controls" | grep -c 'html$')
t_eq "one page per control plus the index" "$n" 94

# --- lifecycle, a year ahead ----------------------------------------------
out=$(tk check -s "$ROOT" --today 2026-06-01 2>&1); st=$?
t_eq "check with warnings exits 0" $st 0
t_contains "check lists overdue reviews" "$out" "warning: review overdue since"
t_contains "check: backup procedure needs update" "$out" "content/procedures/backup.md:13:11: warning: needs update: lesson 'LL-2023-01'"
t_contains "check: overdue action" "$out" "[action-overdue]"
tk check -q -s "$ROOT" --today 2026-06-01 --strict >/dev/null 2>&1; t_eq "--strict turns warnings into errors" $? 1
# --strict: the warnings are errors in the text too (as -Werror), and the
# check ends with what it found
nw=$(printf '%s\n' "$out" | grep -c ': warning: ')
sout=$(tk check -s "$ROOT" --today 2026-06-01 --strict 2>&1)
t_contains "--strict: an overdue review is an error" "$sout" "content/procedures/backup.md:13:11: error: needs update: lesson 'LL-2023-01'"
t_lacks "--strict: no warning left" "$sout" ": warning: "
t_eq "--strict: the last line counts them" "$(printf '%s\n' "$sout" | tail -n 1)" "tebiki: $nw errors (--strict: warnings count as errors)"
# a failed build says how many errors and warnings, and that it wrote nothing
F=$T_TMP/failing
mkdir -p "$F"; cp -R "$ROOT/site.yaml" "$ROOT/content" "$ROOT/data" "$ROOT/catalogs" "$F/"
printf '\n[壊れたリンク](nope.md)\n' >> "$F/content/policies/backup.md"
fout=$(tk build -s "$F" -o "$F/out" --today 2026-06-01 2>&1); st=$?
t_eq "a failing build exits 1" $st 1
t_eq "a failing build's last line" "$(printf '%s\n' "$fout" | tail -n 1)" "tebiki: 1 error and $nw warnings; the output was left as it was"
[ -e "$F/out" ] && t_bad "a failing build writes no output" || t_ok "a failing build writes no output"
json=$(tk check -s "$ROOT" --today 2026-06-01 --format json 2>/dev/null)
t_contains "json diagnostics" "$json" '"code":"needs-update"'
if command -v node >/dev/null 2>&1; then
	cnt=$(printf '%s\n' "$json" | node -e '
		let n = 0, bad = 0;
		require("readline").createInterface({input: process.stdin}).on("line", l => {
			const o = JSON.parse(l);
			for (const k of ["file", "line", "column", "severity", "code", "message"])
				if (!(k in o)) bad++;
			n++;
		}).on("close", () => console.log(bad ? "bad" : n));')
	case $cnt in bad|0|"") t_bad "json lines parse with every field" "$cnt" ;; *) t_ok "json lines parse with every field ($cnt)" ;; esac
fi
dash=$(cat "$OUT/dashboard.html")
t_contains "dashboard: needs update lists the backup procedure" "$dash" 'href="procedures/backup.html"'
t_contains "dashboard groups by owner" "$dash" "情報システム課"
t_contains "page banner names the lesson" "$p" 'href="../lessons/LL-2023-01.html">バックアップは分離して保管し'
home=$(cat "$OUT/index.html")
t_contains "home shows the numbers" "$home" 'href="dashboard.html#stale"'

# --- theme override -------------------------------------------------------
O=$T_TMP/override; mkdir -p "$O/layouts/partials"
cp -R "$ROOT/content" "$ROOT/site.yaml" "$ROOT/catalogs" "$ROOT/data" "$O/"
printf '<footer class="site-footer">OVERRIDE-FOOTER {{site.title}}</footer>\n' > "$O/layouts/partials/footer.mustache"
printf '{{<page}}{{$doc_header}}<p class="custom-header">OVERRIDE-BLOCK {{page.title}}</p>{{/doc_header}}{{/page}}\n' > "$O/layouts/page-policy.mustache"
tk build -q -s "$O" -o "$T_TMP/override-out" --today 2025-06-01 2>/dev/null; t_eq "override site builds" $? 0
pp=$(cat "$T_TMP/override-out/policies/backup.html")
t_contains "partial override used" "$pp" "OVERRIDE-FOOTER"
t_contains "block override used" "$pp" "OVERRIDE-BLOCK バックアップ方針"
t_lacks "overridden block replaced" "$pp" 'class="doc-kicker"'
t_contains "rest of the layout kept" "$pp" 'class="doccontrol'
t_contains "procedures keep the theme's header" "$(cat "$T_TMP/override-out/procedures/backup.html")" 'class="doc-kicker"'

# --- determinism of the full example ----------------------------------------
tk build -q -s "$ROOT" -o "$T_TMP/j1" -j 1 --today 2025-06-01 2>/dev/null
tk build -q -s "$ROOT" -o "$T_TMP/j4" -j 4 --today 2025-06-01 2>/dev/null
if diff -r "$T_TMP/j1" "$T_TMP/j4" >/dev/null; then t_ok "example: -j 1 and -j 4 identical"; else t_bad "example: -j 1 and -j 4 identical" "$(diff -r "$T_TMP/j1" "$T_TMP/j4" | head -5)"; fi
if diff -r "$OUT" "$T_TMP/j4" >/dev/null; then t_ok "example: two builds identical"; else t_bad "example: two builds identical"; fi
t_done
