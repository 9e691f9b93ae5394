#!/bin/sh
# Core behaviour of `tebiki build` / `check`: CLI, determinism, atomic
# output, output-dir safety, hostile input.
. "$ROOT/tests/lib.sh"
BASIC=$ROOT/tests/sites/basic

# --- CLI ---------------------------------------------------------------
for c in build check version help; do
	out=$(tk $c --help 2>&1); st=$?
	t_eq "$c --help exits 0" $st 0
	t_contains "$c --help shows usage" "$out" "usage: tebiki"
done
out=$(tk help build 2>&1); t_contains "help build" "$out" "--today"
tk frobnicate >/dev/null 2>&1; t_eq "unknown command exits 2" $? 2
tk build -j 0 -s "$BASIC" >/dev/null 2>&1; t_eq "bad -j exits 2" $? 2
tk build --today 2025-02-30 -s "$BASIC" >/dev/null 2>&1; t_eq "bad --today exits 2" $? 2
tk build -s "$T_TMP/nonexistent" >/dev/null 2>&1; t_eq "missing source dir exits 2" $? 2
# a directory that is no site (neither site.yaml nor content/): one
# message, exit 2, for build and check alike
mkdir -p "$T_TMP/nosite"
nosite="tebiki: error: no site in '.' (no site.yaml and no content/ directory; use -s DIR or tebiki new site NAME)"
for c in build check; do
	out=$(cd "$T_TMP/nosite" && tk $c 2>&1); st=$?
	t_eq "$c in a directory that is no site exits 2" $st 2
	t_eq "$c in a directory that is no site: the message" "$out" "$nosite"
done
[ -e "$T_TMP/nosite/public" ] && t_bad "no site: nothing written" || t_ok "no site: nothing written"
out=$(tk check -s "$T_TMP/nosite" --format json 2>&1)
t_eq "no site: json" "$out" '{"file":null,"line":null,"column":null,"severity":"error","code":null,"message":"no site in '"'$T_TMP/nosite'"' (no site.yaml and no content/ directory; use -s DIR or tebiki new site NAME)"}'
# site.yaml without content/ is still a site (with a content error)
mkdir -p "$T_TMP/yamlonly"; printf 'title: y\n' > "$T_TMP/yamlonly/site.yaml"
out=$(tk build -s "$T_TMP/yamlonly" 2>&1); st=$?
t_eq "site.yaml without content/ exits 1" $st 1
t_eq "site.yaml without content/: the message" "$out" "content: error: no content directory in the site
tebiki: 1 error; the output was left as it was"
# a file as the source: one message, exit 2
: > "$T_TMP/afile"
for c in build check; do
	out=$(tk $c -s "$T_TMP/afile" 2>&1); st=$?
	t_eq "$c -s FILE exits 2" $st 2
	t_eq "$c -s FILE: one message" "$out" "tebiki: error: source '$T_TMP/afile' is not a directory"
done
out=$(tk version); t_contains "version" "$out" "tebiki "

# --- determinism ---------------------------------------------------------
# --no-cache: each build renders every page (with the render cache the
# second would take the first's pages), and nothing is written into the
# source tree
tk build -q --no-cache -s "$BASIC" -o "$T_TMP/j1" -j 1; t_eq "build -j 1" $? 0
tk build -q --no-cache -s "$BASIC" -o "$T_TMP/j4" -j 4; t_eq "build -j 4" $? 0
tk build -q --no-cache -s "$BASIC" -o "$T_TMP/j4b" -j 4
if diff -r "$T_TMP/j1" "$T_TMP/j4" >/dev/null; then t_ok "-j 1 and -j 4 identical"; else t_bad "-j 1 and -j 4 identical" "$(diff -r "$T_TMP/j1" "$T_TMP/j4" | head)"; fi
if diff -r "$T_TMP/j4" "$T_TMP/j4b" >/dev/null; then t_ok "two builds identical"; else t_bad "two builds identical" "$(diff -r "$T_TMP/j4" "$T_TMP/j4b" | head -20)"; fi
t_file "manifest written" "$T_TMP/j1/.tebiki-manifest"
n=$(grep -c 'html$' "$T_TMP/j1/.tebiki-manifest"); t_eq "manifest lists html files" "$n" "$(find "$T_TMP/j1" -name '*.html' | wc -l)"
# every hash is the file's (print.html is hashed while it is written)
if (cd "$T_TMP/j1" && sha256sum -c --quiet .tebiki-manifest >/dev/null 2>&1); then
	t_ok "manifest hashes match the files"
else
	t_bad "manifest hashes match the files" "$(cd "$T_TMP/j1" && sha256sum -c --quiet .tebiki-manifest 2>&1 | head -5)"
fi

# --- atomic output -------------------------------------------------------
S=$T_TMP/atomic; cp -R "$BASIC" "$S"; rm -rf "$S/expected"
tk build -q -s "$S"; t_eq "first build" $? 0
cp -R "$S/public" "$T_TMP/before"
printf -- '---\ntitle: [broken\n---\n' > "$S/content/policies/broken.md"
echo "[x](nowhere.md)" >> "$S/content/notes/plain.md"
err=$(tk build -s "$S" 2>&1); st=$?
t_eq "failing build exits 1" $st 1
t_contains "failing build names the file" "$err" "content/policies/broken.md:3:1: error: invalid YAML"
t_contains "every error reported" "$err" "content/notes/plain.md:"
if diff -r "$T_TMP/before" "$S/public" >/dev/null; then t_ok "old output byte-identical after failure"; else t_bad "old output byte-identical after failure"; fi
left=$(ls "$S" | grep -c 'public\.' || true); t_eq "no temporary dirs left" "$left" 0
rm "$S/content/policies/broken.md"; sed -i '$d' "$S/content/notes/plain.md"
echo "新しい行" >> "$S/content/notes/plain.md"
tk build -q -s "$S"; t_eq "fixed build" $? 0
t_contains "new output replaced old" "$(cat "$S/public/notes/plain.html")" "新しい行"

# --- the work dir is reused: stale files go, concurrent builds are refused
W=$T_TMP/reuse; cp -R "$BASIC" "$W"; rm -rf "$W/expected"
tk build -q -s "$W"; tk build -q -s "$W"
t_file "work dir kept next to the output" "$W/.public.tebiki-work/.tebiki-manifest"
rm "$W/content/notes/plain.md"
tk build -q -s "$W"; t_eq "build after deleting a page" $? 0
[ -e "$W/public/notes/plain.html" ] && t_bad "deleted page gone" || t_ok "deleted page gone"
tk build -q -s "$W"; t_eq "build again (reusing the dir that had it)" $? 0
[ -e "$W/public/notes/plain.html" ] && t_bad "deleted page stays gone" || t_ok "deleted page stays gone"
n=$(grep -c 'notes/plain' "$W/public/.tebiki-manifest"); t_eq "manifest has no stale entry" "$n" 0
if command -v flock >/dev/null 2>&1; then
	flock "$W/.public.tebiki-work.lock" sleep 3 &
	sleep 0.5
	out=$(tk build -s "$W" 2>&1); t_eq "concurrent build refused" $? 2
	t_contains "concurrent build message" "$out" "another build is writing"
	wait
fi

# --- unchanged files are not written again; a failed build never leaves
# a manifest that lies about the work dir (ledger.h)
L=$T_TMP/ledger; cp -R "$BASIC" "$L"; rm -rf "$L/expected" "$L/public"
tk build -q -s "$L"
m1=$(stat -c '%i %y' "$L/public/notes/plain.html")
sleep 1.1
tk build -q -s "$L"; tk build -q -s "$L"
m3=$(stat -c '%i %y' "$L/public/notes/plain.html")
t_eq "unchanged page not rewritten (same inode and time two builds later)" "$m3" "$m1"
echo "追記した一文" >> "$L/content/notes/plain.md"
tk build -q -s "$L"
t_contains "edited page rewritten" "$(cat "$L/public/notes/plain.html")" "追記した一文"
sed -i '$d' "$L/content/notes/plain.md"          # back to the first text
cp -R "$L" "$T_TMP/ledger-clean"; rm -rf "$T_TMP/ledger-clean/public" "$T_TMP/ledger-clean/.public.tebiki-work"*
# a build that fails after writing the page with other text...
sed 's/普通/特別/' "$T_TMP/ledger-clean/content/notes/plain.md" > "$L/content/notes/plain.md"   # same size
cp "$L/content/index.md" "$T_TMP/index-saved.md"
echo "[x](nowhere.md)" >> "$L/content/index.md"   # found in pass 2, after pages are written
tk build -q -s "$L" 2>/dev/null; t_eq "failing build (ledger)" $? 1
[ -e "$L/.public.tebiki-work/.tebiki-manifest" ] && t_bad "failed build leaves no manifest in the work dir" || t_ok "failed build leaves no manifest in the work dir"
# ...then the first text again: the work dir's old manifest named that text
cp "$T_TMP/index-saved.md" "$L/content/index.md"; cp "$T_TMP/ledger-clean/content/notes/plain.md" "$L/content/notes/plain.md"
tk build -q -s "$L"; tk build -q -s "$T_TMP/ledger-clean"
if diff -r "$T_TMP/ledger-clean/public" "$L/public" >/dev/null; then t_ok "build after a failed build equals a clean build"; else t_bad "build after a failed build equals a clean build" "$(diff -r "$T_TMP/ledger-clean/public" "$L/public" | head)"; fi
echo "stray" > "$L/.public.tebiki-work/stray.txt"
mkdir -p "$L/.public.tebiki-work/strays/deeper"
echo "stray" > "$L/.public.tebiki-work/strays/deeper/s.txt"
ln -s ../index.html "$L/.public.tebiki-work/strays/link.html"
ln -s /nonexistent "$L/.public.tebiki-work/dangling"
tk build -q -s "$L"
[ -e "$L/public/stray.txt" ] && t_bad "a file nobody wrote is swept" || t_ok "a file nobody wrote is swept"
[ -e "$L/public/strays" ] || [ -L "$L/public/dangling" ] && t_bad "stray folders and links are swept" "$(ls -la "$L/public" | head)" || t_ok "stray folders and links are swept"
(cd "$L/public" && sha256sum -c --quiet .tebiki-manifest >/dev/null 2>&1); t_eq "manifest matches the files" $? 0
n=$(cd "$L/public" && find . -type f ! -name .tebiki-manifest | wc -l); t_eq "manifest lists every file" "$(wc -l < "$L/public/.tebiki-manifest")" "$n"

# --- check writes nothing -------------------------------------------------
C=$T_TMP/checksite; cp -R "$BASIC" "$C"; rm -rf "$C/expected" "$C/public"
tk check -q -s "$C"; t_eq "check exits 0" $? 0
if [ -e "$C/public" ]; then t_bad "check writes nothing"; else t_ok "check writes nothing"; fi
echo "[x](nowhere.md)" >> "$C/content/index.md"
out=$(tk check -s "$C" 2>&1); t_eq "check finds errors" $? 1
t_contains "check diagnostic" "$out" "content/index.md:7:1: error: link to missing file 'nowhere.md'"
out=$(tk check -s "$C" --format json 2>/dev/null)
t_contains "check json" "$out" '"file":"content/index.md","line":7,"column":1,"severity":"error"'

# --- link diagnostics keep their place when filters rebuild a page ---------
# A paragraph whose inlines a filter changed, and a page with footnotes (the
# whole page goes through Lua), are built back from Lua elements; links that
# came from the source are still reported at their own line and column, and
# a link a filter made at the paragraph it is in.
P=$T_TMP/linkpos; mkdir -p "$P/content" "$P/data" "$P/filters"
cp "$ROOT/filters/glossary.lua" "$P/filters/"
printf 'function Str(el)\n  if el.text == "BROKEN" then\n    return pandoc.Link({pandoc.Str("b")}, "made.md")\n  end\nend\n' > "$P/filters/mk.lua"
cat > "$P/site.yaml" <<'EOT'
title: t
excluded_links: text
filters: [filters/glossary.lua, filters/mk.lua]
EOT
printf -- '- term: インシデント\n  definition: 出来事。\n' > "$P/data/glossary.yaml"
printf -- '---\ntitle: g\n---\n\nfirst paragraph\n\n**太字** インシデント [x](nope.md)\n' > "$P/content/g.md"
printf -- '---\ntitle: f\n---\n\n本文[^1] です。\n\n[^1]: 注の **太字** インシデント [y](gone.md)\n\n次の段落 [x](nope.md)\n' > "$P/content/f.md"
printf -- '---\ntitle: m\n---\n\nfirst\n\n- item\n- two BROKEN here\n' > "$P/content/m.md"
out=$(tk check -s "$P" 2>&1)
t_contains "link after a glossary term and emphasis: line and column" "$out" "content/g.md:7:15: error: link to missing file 'nope.md'"
t_contains "link on a page with a footnote: line and column" "$out" "content/f.md:9:6: error: link to missing file 'nope.md'"
t_contains "link in a footnote: line and column" "$out" "content/f.md:7:24: error: link to missing file 'gone.md'"
t_contains "link a filter made: at its paragraph" "$out" "content/m.md:8:3: error: link to missing file 'made.md'"
out=$(tk check -s "$P" --format json 2>/dev/null)
t_contains "json: line and column of a link in a rebuilt paragraph" "$out" '"file":"content/g.md","line":7,"column":15,'
t_lacks "json: no column 0" "$out" '"column":0'
rm "$P/content/g.md" "$P/content/f.md" "$P/content/m.md"
printf -- '---\nid: DOC-IN\ntitle: in\nclassification: internal\n---\n\n本文\n' > "$P/content/in.md"
printf -- '---\ntitle: pub\nclassification: public\n---\n\n前置き\n\n- **太字** インシデント時は[手順](id:DOC-IN)へ\n' > "$P/content/pub.md"
out=$(tk build -s "$P" -o "$P/out" --audience public 2>&1)
t_contains "audience warning for a link by id: line and column" "$out" "content/pub.md:8:18: warning: link to 'DOC-IN', which is left out of this build, shown as plain text"

# front matter that cannot be parsed is reported once, without the
# required-field errors its fields would cascade into
F=$T_TMP/fmfail; mkdir -p "$F/content/policies"; printf 'title: f\n' > "$F/site.yaml"
printf -- '---\nid: POL-U\ntitle: 閉じていない\n' > "$F/content/policies/open.md"
printf -- '---\nid: POL-S\ntitle: [壊れた\n---\n本文\n' > "$F/content/policies/syntax.md"
out=$(tk check -s "$F" 2>&1); t_eq "broken front matter: check exits 1" $? 1
t_eq "broken front matter: only the parse errors" "$out" "content/policies/open.md:1:1: error: front matter opened here is never closed (expected a line '---')
content/policies/syntax.md:4:1: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence (which started at line 3, column 8)
tebiki: 2 errors"
out=$(tk build -s "$F" -o "$T_TMP/fmfail-out" 2>&1); t_eq "broken front matter: build exits 1" $? 1
t_eq "broken front matter: build says the same" "$(printf '%s\n' "$out" | wc -l)" 3

# --- heading ids never repeat an id of the theme's own ----------------
# every literal id="..." of the default theme's templates as a heading,
# twice, on a policy, a plain page and the home page: no output page may
# have two elements with one id (skip link, aria-labelledby)
I=$T_TMP/ids; mkdir -p "$I/content/policies" "$I/content/notes"
printf 'title: ids\ncatalogs: []\n' > "$I/site.yaml"
tids=$(cat "$ROOT"/themes/default/layouts/*.mustache "$ROOT"/themes/default/layouts/partials/*.mustache |
    grep -o ' id="[^"{]*"' | sed 's/^ id="//; s/"$//' | sort -u)
t_eq "the theme has literal ids" "$(printf '%s\n' "$tids" | wc -l)" 28
heads() { for i in $tids; do printf '## %s\n\n## %s\n\n' "$i" "$i"; done; printf '## 復元テスト\n'; }
{ printf -- '---\nid: POL-IDS\ntitle: ids\nowner: 課\nstatus: approved\n---\n'; heads; } > "$I/content/policies/ids.md"
{ printf '# ノート\n\n'; heads; } > "$I/content/notes/ids.md"
{ printf -- '---\ntitle: ホーム\n---\n'; heads; } > "$I/content/index.md"
out=$(tk build -s "$I" -o "$T_TMP/ids-out" --today 2025-06-01 2>&1); t_eq "theme ids as headings: builds" $? 0
dups=$(find "$T_TMP/ids-out" -name '*.html' | sort | while read -r f; do
	grep -o ' id="[^"]*"' "$f" | sort | uniq -d | sed "s|^|${f#"$T_TMP/ids-out/"}:|"
done)
t_eq "theme ids as headings: no page has an id twice" "$dups" ""
p=$(cat "$T_TMP/ids-out/policies/ids.html")
hid() { printf '%s\n' "$p" | grep -o "<h2 id=\"[^\"]*\">$1</h2>" | sed 's/^<h2 id="//; s/">.*//' | tr '\n' ' '; }
t_eq "two '## main' become main-1 and main-2" "$(hid main)" "main-1 main-2 "
t_contains "the theme's main stays" "$p" '<main id="main"'
t_eq "'## doc-title' becomes doc-title-1" "$(hid doc-title)" "doc-title-1 doc-title-2 "
t_eq "'## toc-title' becomes toc-title-1" "$(hid toc-title)" "toc-title-1 toc-title-2 "
t_contains "Japanese slug kept" "$p" '<h2 id="復元テスト">復元テスト</h2>'
t_contains "the table of contents links the new id" "$p" 'href="#main-1"'

# --- output dir safety ---------------------------------------------------
O=$T_TMP/outsafe; cp -R "$BASIC" "$O"
out=$(tk build -s "$O" -o "$O" 2>&1); t_eq "output = source refused" $? 2
t_contains "output = source message" "$out" "is the source directory"
out=$(tk build -s "$O" -o "$T_TMP" 2>&1); t_eq "output containing source refused" $? 2
out=$(tk build -s "$O" -o / 2>&1); t_eq "output / refused" $? 2
out=$(tk build -s "$O" -o "$O/content/out" 2>&1); t_eq "output inside content refused" $? 2
mkdir -p "$T_TMP/precious"; echo keep > "$T_TMP/precious/notes.txt"
out=$(tk build -s "$O" -o "$T_TMP/precious" 2>&1); t_eq "foreign dir refused" $? 2
t_contains "foreign dir message" "$out" "was not made by tebiki"
t_eq "foreign dir untouched" "$(cat "$T_TMP/precious/notes.txt")" keep

# --- sources read again in pass 2 ----------------------------------------
# the pages' texts are freed between the passes and read again by pass 2:
# positions in the body stay right (after a BOM, after invalid UTF-8), and
# a file that changes in between fails the build, old output kept
R=$T_TMP/reread; mkdir -p "$R/content"; printf 'title: r\n' > "$R/site.yaml"
printf '\357\273\277---\ntitle: bom\n---\n\nひらがな [x](b.md#nope)\n' > "$R/content/a.md"
printf -- '---\ntitle: b\n---\nbad \303\050 [y](a.md#nada)\n' > "$R/content/b.md"
out=$(tk build -s "$R" -o "$R/out" 2>&1); t_eq "reread: builds" $? 0
t_contains "reread: column after a BOM" "$out" "content/a.md:5:6: warning: no heading '#nope'"
t_contains "reread: column after invalid UTF-8" "$out" "content/b.md:4:8: warning: no heading '#nada'"
t_contains "reread: replaced bytes kept" "$(cat "$R/out/b.html")" "bad �( "
cp -R "$R/out" "$R/before"
out=$(TEBIKI_TEST_TOUCH="$R/content/a.md" tk build --no-cache -s "$R" -o "$R/out" 2>&1)
t_eq "file changed during the build: exits 1" $? 1
t_contains "file changed during the build: says so" "$out" "content/a.md: error: the file changed while the site was being built"
if diff -r "$R/before" "$R/out" >/dev/null; then t_ok "file changed during the build: old output kept"; else t_bad "file changed during the build: old output kept"; fi

# --- hostile input -------------------------------------------------------
H=$T_TMP/hostile; mkdir -p "$H/content"
: > "$H/content/empty.md"
printf '\000\001\002\377' > "$H/content/binary.md"
printf -- '---\ntitle: ok\n---\nbad \303\050 utf8\n' > "$H/content/badutf8.md"
i=0; : > "$H/content/deep.md"
while [ $i -lt 3000 ]; do printf '> ' >> "$H/content/deep.md"; i=$((i + 1)); done; echo x >> "$H/content/deep.md"
i=0; : > "$H/content/deeplist.md"
awk 'BEGIN { s = ""; for (i = 0; i < 2000; i++) { printf "%s- x\n", s; s = s "  " } }' > "$H/content/deeplist.md"
awk 'BEGIN { for (i = 0; i < 160000; i++) printf "行%d: 情報セキュリティの手順を確認する。[リンク](#a) *強調* `code`\n\n", i }' > "$H/content/big.md"
printf -- '---\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n---\n' > "$H/content/bomb.md"
size=$(wc -c < "$H/content/big.md"); [ "$size" -gt 10000000 ] && t_ok "big page is over 10 MB" || t_bad "big page is over 10 MB" "$size"
out=$(tk build -s "$H" -o "$T_TMP/hostile-out" 2>&1); st=$?
t_eq "hostile site exits 1 (not a crash)" $st 1
t_contains "binary file diagnosed" "$out" "content/binary.md:1:1: error: file contains a NUL byte"
t_contains "invalid UTF-8 diagnosed" "$out" "content/badutf8.md:4:5: warning: invalid UTF-8"
t_contains "alias bomb diagnosed" "$out" "content/bomb.md:5:29: error: alias '*c' expands past"
rm "$H/content/binary.md" "$H/content/bomb.md"
out=$(tk build -s "$H" -o "$T_TMP/hostile-out" 2>&1); st=$?
t_eq "empty, bad UTF-8, deep and 10 MB pages build" $st 0
t_file "empty page written" "$T_TMP/hostile-out/empty.html"
t_contains "bad UTF-8 replaced" "$(cat "$T_TMP/hostile-out/badutf8.html")" "bad �( utf8"
t_file "deep quotes page written" "$T_TMP/hostile-out/deep.html"
t_file "deep list page written" "$T_TMP/hostile-out/deeplist.html"
t_contains "big page complete" "$(tail -c 2000 "$T_TMP/hostile-out/big.html")" "行159999"
# --- site.yaml: a theme or a filter that is not there -----------------------------
# named at its place in site.yaml, with the closest theme there is
TS=$T_TMP/typos; (cd "$T_TMP" && tk new site typos >/dev/null 2>&1)
sed -i 's/^theme: default$/theme: defualt/' "$TS/site.yaml"
out=$(tk build -s "$TS" 2>&1); st=$?
t_eq "unknown theme exits 2" $st 2
t_contains "unknown theme: where and what" "$out" "site.yaml:5:8: error: theme 'defualt' not found"
t_contains "unknown theme: the closest one" "$out" "did you mean 'default'?"
sed -i 's/^theme: defualt$/theme: default/; s|filters/glossary.lua|filters/glosary.lua|' "$TS/site.yaml"
out=$(tk build -s "$TS" 2>&1); st=$?
t_eq "unknown filter exits 1" $st 1
t_contains "unknown filter: line and column" "$out" "site.yaml:9:38: error: filter 'filters/glosary.lua' not found"

t_done
