#!/bin/sh
# Incremental rebuilds (render cache: generator/rcache.h; unchanged files
# not rewritten: ledger.h).  After each kind of edit, a build that reuses
# the cache must give exactly the files and the messages of a clean build
# of the same sources -- and must have taken pages from the cache, or the
# comparison proves nothing.
. "$ROOT/tests/lib.sh"
S=$T_TMP/inc
TODAY="--today 2025-06-01"
mkdir -p "$S"
cp -R "$ROOT/site.yaml" "$ROOT/content" "$ROOT/data" "$ROOT/catalogs" "$S/"
NPAGES=$(find "$S/content" -name '*.md' | wc -l)

# step NAME MIN MAX [CMIN CMAX]: rebuild $S, build a copy clean, compare;
# the number of pages taken from the render cache must be within MIN..MAX
# (and the pages whose collect results came from the collect cache within
# CMIN..CMAX)
step() {
	TEBIKI_TIMING=1 tk build -s "$S" -o "$S/public" $TODAY >/dev/null 2>"$T_TMP/inc.err"
	st=$?
	t_eq "$1: incremental build" $st 0
	hits=$(sed -n 's/^tebiki: timing: \([0-9]*\) of [0-9]* pages from the render cache$/\1/p' "$T_TMP/inc.err")
	grep -v -e '^tebiki: timing' -e '^tebiki: built' "$T_TMP/inc.err" >"$T_TMP/inc.msgs"
	rm -rf "$T_TMP/clean"; mkdir "$T_TMP/clean"
	cp -R "$S/site.yaml" "$S/content" "$S/data" "$S/catalogs" "$T_TMP/clean/"
	[ -d "$S/layouts" ] && cp -R "$S/layouts" "$T_TMP/clean/"
	[ -d "$S/filters" ] && cp -R "$S/filters" "$T_TMP/clean/"
	tk build -s "$T_TMP/clean" -o "$T_TMP/clean/public" $TODAY --no-cache \
	    >/dev/null 2>"$T_TMP/clean.err"
	grep -v -e '^tebiki: built' "$T_TMP/clean.err" >"$T_TMP/clean.msgs"
	if diff -r "$T_TMP/clean/public" "$S/public" >"$T_TMP/inc.diff"; then
		t_ok "$1: files identical to a clean build"
	else
		t_bad "$1: files identical to a clean build" "$(head -20 "$T_TMP/inc.diff")"
	fi
	if diff "$T_TMP/clean.msgs" "$T_TMP/inc.msgs" >"$T_TMP/inc.diff"; then
		t_ok "$1: same diagnostics as a clean build"
	else
		t_bad "$1: same diagnostics as a clean build" "$(head -10 "$T_TMP/inc.diff")"
	fi
	if (cd "$S/public" && sha256sum -c --quiet .tebiki-manifest >/dev/null 2>&1) &&
	    [ -z "$(find "$S/public" "$S/.public.tebiki-work" -name '*.tebiki-part' 2>/dev/null)" ]; then
		t_ok "$1: manifest hashes match, no partial files"
	else
		t_bad "$1: manifest hashes match, no partial files" "$(cd "$S/public" && sha256sum -c --quiet .tebiki-manifest 2>&1 | head -5)"
	fi
	# the output before this build is the next build's work directory:
	# writing this one never changed a file of it (they may share files)
	if [ ! -f "$S/.public.tebiki-work/.tebiki-manifest" ] ||
	    (cd "$S/.public.tebiki-work" && sha256sum -c --quiet .tebiki-manifest >/dev/null 2>&1); then
		t_ok "$1: the previous output is as its manifest says"
	else
		t_bad "$1: the previous output is as its manifest says" "$(cd "$S/.public.tebiki-work" && sha256sum -c --quiet .tebiki-manifest 2>&1 | head -5)"
	fi
	if [ "${hits:-x}" != x ] && [ "$hits" -ge "$2" ] && [ "$hits" -le "$3" ]; then
		t_ok "$1: $hits pages from the cache ($2..$3)"
	else
		t_bad "$1: pages from the cache" "got '${hits:-none}', want $2..$3"
	fi
	[ $# -ge 5 ] || return 0
	chits=$(sed -n "s/^tebiki: timing: \([0-9]*\) of [0-9]* pages' collect from the collect cache\$/\1/p" "$T_TMP/inc.err")
	if [ "${chits:-x}" != x ] && [ "$chits" -ge "$4" ] && [ "$chits" -le "$5" ]; then
		t_ok "$1: $chits collects from the cache ($4..$5)"
	else
		t_bad "$1: collects from the cache" "got '${chits:-none}', want $4..$5"
	fi
}

# damage FILE: one byte in the middle of FILE changed
damage() {
	sz=$(stat -c %s "$1")
	printf 'Z' | dd of="$1" bs=1 seek=$((sz / 2)) conv=notrunc 2>/dev/null
}

step "first build" 0 0 0 0
# the render cache: a directory of 64 files, by output path
RC=$(ls -d "$S"/.tebiki-cache/render-* 2>/dev/null | head -n 1)
t_file "cache written in the site" "$RC/00.bin"
t_eq "64 cache files" "$(ls "$RC" | grep -c '^[0-9a-f][0-9a-f]\.bin$')" 64
t_file "collect cache written in the site" "$(ls "$S"/.tebiki-cache/collect-*.bin 2>/dev/null | head -n 1)"
ino1=$(stat -c '%n %i' "$RC"/*.bin)
t_eq "first build: no work directory yet" "$(ls -A "$S/.public.tebiki-work" 2>/dev/null | wc -l)" 0
step "nothing changed" "$NPAGES" "$NPAGES" "$NPAGES" "$NPAGES"
# the second build's new work directory started as hard links to the
# first output: nothing was written, every file is shared
t_eq "second build: the output's files are links to the first's" \
    "$(find "$S/public" -type f -links 1 ! -name .tebiki-manifest | wc -l)" 0
t_eq "... and the same files" "$(cd "$S/public" && find . -type f | sort | md5sum)" \
    "$(cd "$S/.public.tebiki-work" && find . -type f | sort | md5sum)"
# every page came from the cache: no cache file is written again
ino2=$(stat -c '%n %i' "$RC"/*.bin)
t_eq "unchanged cache not written again" "$ino2" "$ino1"
step "nothing changed, twice" "$NPAGES" "$NPAGES"
# the search index's tokenizer batches come from the cache too: 64
# documents each here (a 16th of the documents, 64 at least), so the
# example's pages and controls make three
batches() { sed -n 's/.* \([0-9]* of [0-9]*\) batches from the cache.*/\1/p' "$T_TMP/inc.err"; }
t_eq "search batches from the cache" "$(batches)" "3 of 3"
SB=$(ls -d "$S"/.tebiki-cache/search-* 2>/dev/null | head -n 1)
damage "$SB/b0.bin"
step "damaged search cache ignored" "$NPAGES" "$NPAGES"
t_eq "damaged search batch made again, the others read" "$(batches)" "2 of 3"
step "search cache written again" "$NPAGES" "$NPAGES"
t_eq "search batches from the cache again" "$(batches)" "3 of 3"
# the shard cache: "(N files, K kept; ...)": unchanged shards are not
# made again, only the facets, the lengths and the manifest are
kept() { sed -n 's/.*(\([0-9]*\) files, \([0-9]*\) kept;.*/\1 \2/p' "$T_TMP/inc.err"; }
set -- $(kept)
t_eq "nothing changed: every search shard kept" "${2:-none}" "$((${1:-0} - 3))"

damage "$SB/shards.bin"
step "damaged shard records ignored" "$NPAGES" "$NPAGES"
set -- $(kept)
t_eq "damaged shard records: every shard made" "${2:-none}" 0

# a damaged cache file (one byte changed in the middle) is not trusted:
# its pages are rendered again, the others still come from the cache
big=$(ls -S "$RC"/*.bin | head -n 1)
damage "$big"
step "one damaged cache file ignored" 1 $((NPAGES - 1))
step "cache written again" "$NPAGES" "$NPAGES"
for f in "$RC"/*.bin; do
	damage "$f"
done
step "every cache file damaged" 0 0
step "cache written again, twice" "$NPAGES" "$NPAGES"
# one edited page rewrites one cache file
ino1=$(stat -c '%n %i' "$RC"/*.bin | sort)
echo "キャッシュの確認。" >>"$S/content/procedures/mfa.md"
step "one page edited" $((NPAGES - 1)) $((NPAGES - 1))
t_contains "one page edited: the others' headings from the pass-1 cache" "$(cat "$T_TMP/inc.err")" "$((NPAGES - 1)) of $NPAGES pages' headings from the pass-1 cache"
ino2=$(stat -c '%n %i' "$RC"/*.bin | sort)
t_eq "one cache file rewritten" "$(printf '%s\n%s\n' "$ino1" "$ino2" | sort | uniq -u | wc -l)" 2
# print.html: the bodies of the pages that did not change are read from
# the last print.html (print.c, "Reuse of the last print.html"); the
# files stay identical to a clean build's (step compares them)
pbodies() { sed -n 's/^tebiki: timing: \([0-9]*\) of \([0-9]*\) bodies of print.html from the last one$/\1 \2/p' "$T_TMP/inc.err"; }
set -- $(pbodies)
t_eq "one page edited: the other bodies of print.html reused" "${1:-none}" "$((${2:-0} - 1))"
PI=$(ls "$S"/.tebiki-cache/print-*.bin 2>/dev/null | head -n 1)
t_file "print index written in the site" "$PI"
step "nothing changed, print" "$NPAGES" "$NPAGES"
set -- $(pbodies)
t_eq "nothing changed: every body of print.html reused" "${1:-none}" "${2:-x}"
# the published print.html is not the one the index describes (its
# time changed): nothing is taken from it
touch -d '2001-01-01 00:00' "$S/public/print.html"
step "print.html touched" "$NPAGES" "$NPAGES"
set -- $(pbodies)
t_eq "print.html touched: no body reused" "${1:-none}" 0
step "print index written again" "$NPAGES" "$NPAGES"
set -- $(pbodies)
t_eq "print index again: every body reused" "${1:-none}" "${2:-x}"
damage "$PI"
step "damaged print index ignored" "$NPAGES" "$NPAGES"
set -- $(pbodies)
t_eq "damaged print index: no body reused" "${1:-none}" 0
# a build that fails keeps the index of the print.html still published
pi1=$(md5sum <"$PI")
cp "$S/content/procedures/mfa.md" "$T_TMP/mfa.md"
printf -- '---\ntitle: [unclosed\n---\n' >"$S/content/procedures/broken.md"
echo "失敗する版。" >>"$S/content/procedures/mfa.md"
TEBIKI_TIMING=1 tk build -s "$S" -o "$S/public" $TODAY >/dev/null 2>"$T_TMP/inc.err"
t_eq "failed build: exits 1" $? 1
t_eq "failed build: print index as it was" "$(md5sum <"$PI")" "$pi1"
rm "$S/content/procedures/broken.md"
cp "$T_TMP/mfa.md" "$S/content/procedures/mfa.md"
step "after the failed build" "$NPAGES" "$NPAGES"
set -- $(pbodies)
t_eq "after the failed build: every body reused" "${1:-none}" "${2:-x}"
# a page added changes where links go: every body is rewritten
sed -e 's/^id: .*/id: PROC-ADDED/' -e 's/^title: .*/title: 追加した手順/' \
    "$S/content/procedures/mfa.md" >"$S/content/procedures/added.md"
step "page added" $((NPAGES - 40)) "$NPAGES"
set -- $(pbodies)
t_eq "page added: no body reused" "${1:-none}" 0
rm "$S/content/procedures/added.md"
step "page removed again" $((NPAGES - 40)) "$NPAGES"
cf=$(ls "$S"/.tebiki-cache/collect-*.bin | head -n 1)
damage "$cf"
step "damaged collect cache ignored" "$NPAGES" "$NPAGES" 0 0
step "collect cache written again" "$NPAGES" "$NPAGES" "$NPAGES" "$NPAGES"

echo "追記した段落。復元の手順を確認すること。" >>"$S/content/procedures/backup.md"
step "body edit" $((NPAGES - 3)) $((NPAGES - 1)) $((NPAGES - 1)) $((NPAGES - 1))
t_eq "body edit: only its search batch made again" "$(batches)" "2 of 3"
set -- $(kept)
if [ "${2:-0}" -gt 0 ] && [ "${2:-0}" -lt "$((${1:-0} - 3))" ]; then
	t_ok "body edit: some search shards kept, some made ($2 of $1 kept)"
else
	t_bad "body edit: some search shards kept, some made" "got '$(kept)'"
fi
t_contains "body edit shows" "$(cat "$S/public/procedures/backup.html")" "追記した段落"

sed -i 's/^title: バックアップ方針$/title: バックアップ基本方針/' "$S/content/policies/backup.md"
step "front matter edit (title others show)" 0 $((NPAGES - 1)) 0 0
t_contains "new title on the procedure that implements it" "$(cat "$S/public/procedures/backup.html")" "バックアップ基本方針"
# a front matter field other than the title: SITE (which every collect
# may read) changed, so no collect result may come from the cache
sed -i 's/^owner: \(.*\)$/owner: \1（改）/' "$S/content/policies/backup.md"
step "front matter edit (owner)" 0 "$NPAGES" 0 0

echo "[MFA の設定](mfa.md#no-such-heading)" >>"$S/content/procedures/backup.md"
step "link edit (missing anchor warning)" 1 $((NPAGES - 1))
t_contains "warning kept" "$(cat "$T_TMP/inc.msgs")" "no-such-heading"
step "warning replayed from the cache" "$NPAGES" "$NPAGES"
t_contains "warning replayed" "$(cat "$T_TMP/inc.msgs")" "no-such-heading"

sed -i 's/^## 2\. 確認（毎営業日）$/## 2. 確認（毎日）/' "$S/content/procedures/backup.md"
step "heading edit" 0 $((NPAGES - 1))

rm "$S/content/pages/about.md"
sed -i 's/^related: \[POL-BASIC-EN, PAGE-ABOUT\]$/related: [POL-BASIC-EN]/' "$S/content/policies/basic.md"
step "page deleted" 0 $((NPAGES - 2))
[ -e "$S/public/pages/about.html" ] && t_bad "deleted page gone" || t_ok "deleted page gone"

mkdir -p "$S/layouts/partials"
cp "$ROOT/themes/default/layouts/partials/footer.mustache" "$S/layouts/partials/footer.mustache" 2>/dev/null &&
	echo "<!-- site footer override -->" >>"$S/layouts/partials/footer.mustache"
step "template override added" 0 0

# a collect that keeps state between pages (a running total of the text
# before each page) and does not say page_local: never reused, or the
# pages after an edited one would keep their old totals
mkdir -p "$S/filters"
cat >"$S/filters/running.lua" <<'EOF'
local total = 0
return {
  collect = function(page)
    total = total + #(page.text or "")
    page.data.running = total
  end,
  { Pandoc = function(doc)
      doc.blocks:insert(pandoc.Para{pandoc.Str("running-" ..
        tostring(PAGE.data.running))})
      return doc
    end },
}
EOF
sed -i 's|^  - filters/glossary.lua$|&\n  - filters/running.lua|' "$S/site.yaml"
t_contains "running filter listed" "$(cat "$S/site.yaml")" "filters/running.lua"
step "stateful collect added" 0 0 0 0
# its collect read page.text of pages that pass 1 did not parse (their
# headings came from the pass-1 cache): the totals matched a clean build
p1=$(sed -n "s/^tebiki: timing: \([0-9]*\) of [0-9]* pages' headings from the pass-1 cache\$/\1/p" "$T_TMP/inc.err")
t_eq "stateful collect added: every page's headings from the pass-1 cache" "$p1" "$(find "$S/content" -name '*.md' | wc -l)"
first=$(find "$S/content" -name '*.md' | sort | head -n 1)
echo "もう一段落。" >>"$first"
step "stateful collect: early body edit" 0 $((NPAGES - 1)) 0 0
t_contains "totals moved" "$(cat "$S/public/procedures/backup.html")" "running-"

# without filters the site-wide key no longer holds every page's front
# matter: what other pages show of a page must reach their own keys
sed -i -e '/^filters:/d' -e '/^  - filters\//d' "$S/site.yaml"
echo "filters: []" >>"$S/site.yaml"
step "filters turned off" 0 0
t_contains "lesson makes the procedure stale" "$(cat "$S/public/procedures/backup.html")" "LL-2023-01"
sed -i 's/^date: 2023-12-19$/date: 2023-05-01/' "$S/content/lessons/LL-2023-01.md"
step "lesson date edit (banner on another page)" 1 $((NPAGES - 2))

# builds into throw-away directories (export, pdf) leave the cache alone
n0=$(ls "$S/.tebiki-cache" | wc -l)
m0=$(stat -c '%n %i %y' "$RC"/*.bin)
sleep 1.1
tk export REP-2023-12 --single-file -s "$S" -o "$T_TMP/rep.html" >/dev/null 2>&1
t_eq "export exits 0" $? 0
t_eq "export adds no cache file" "$(ls "$S/.tebiki-cache" | wc -l)" "$n0"
t_eq "export does not rewrite the cache" "$(stat -c '%n %i %y' "$RC"/*.bin)" "$m0"
t_eq "one cache of each kind per audience (render, collect, search, pass 1, print)" "$n0" 5
# a failed build leaves the cache as it was
echo "[x](nowhere.md)" >>"$S/content/procedures/mfa.md"
tk build -q -s "$S" -o "$S/public" $TODAY >/dev/null 2>&1
t_eq "failing build exits 1" $? 1
t_eq "failed build keeps the cache" "$(stat -c '%n %i %y' "$RC"/*.bin)" "$m0"
t_eq "failed build leaves no partial cache" "$(ls "$S/.tebiki-cache" | wc -l) $(ls "$RC" | grep -c new)" "$n0 0"

# Pass 2's bodies and search texts wait in an unnamed scratch file
# (generator/spill.h) for the render cache, the print page and the index.
# Kept in memory instead (a file system without O_TMPFILE), the site is
# the same, from a clean build and from the cache after an edit.
sed -i '$d' "$S/content/procedures/mfa.md"
P=$T_TMP/spill; rm -rf "$P"; mkdir -p "$P"
cp -R "$ROOT/site.yaml" "$ROOT/content" "$ROOT/data" "$ROOT/catalogs" "$P/"
tk build -s "$P" -o "$P/a" $TODAY --no-cache >/dev/null 2>&1
t_eq "scratch file: clean build" $? 0
TEBIKI_TEST_NO_SPILL=1 tk build -s "$P" -o "$P/b" $TODAY --no-cache >/dev/null 2>&1
t_eq "in memory: clean build" $? 0
if diff -r "$P/a" "$P/b" >"$T_TMP/sp.diff"; then t_ok "in memory: the same site"
else t_bad "in memory: the same site" "$(head -10 "$T_TMP/sp.diff")"; fi
para=$(grep -o '<p>[^<]*</p>' "$P/a/procedures/backup.html" | head -1)
[ -n "$para" ] && t_contains "the print page has the bodies" "$(cat "$P/a/print.html")" "$para" || t_bad "a paragraph in backup.html"
t_lacks "no body mark left in the print page" "$(cat "$P/a/print.html" "$P/a"/print-*.html 2>/dev/null)" "tebikiprintbody"
tk build -s "$P" -o "$P/c" $TODAY >/dev/null 2>&1
echo "追記した段落。" >>"$P/content/procedures/backup.md"
tk build -s "$P" -o "$P/c" $TODAY >/dev/null 2>&1
TEBIKI_TEST_NO_SPILL=1 tk build -s "$P" -o "$P/d" $TODAY --no-cache >/dev/null 2>&1
if diff -r "$P/c" "$P/d" >"$T_TMP/sp.diff"; then t_ok "after an edit: cache and scratch file as in memory"
else t_bad "after an edit: cache and scratch file as in memory" "$(head -10 "$T_TMP/sp.diff")"; fi
# a scratch file that cannot be read back fails the build, once, and
# leaves the output and the render cache as they were
cp -R "$P/c" "$P/before"
m1=$(stat -c '%n %i %y' "$P"/.tebiki-cache/render-*/*.bin 2>/dev/null | md5sum)
echo "もう一行。" >>"$P/content/procedures/backup.md"
out=$(TEBIKI_TEST_SPILL_CUT=1 tk build -s "$P" -o "$P/c" $TODAY 2>&1)
t_eq "scratch file lost: exits 1" $? 1
t_contains "scratch file lost: says so" "$out" "cannot read back what pass 2 made of this page from the build's scratch file"
t_eq "scratch file lost: said once" "$(printf '%s\n' "$out" | grep -c 'cannot read back what pass 2')" 1
if diff -r "$P/before" "$P/c" >/dev/null; then t_ok "scratch file lost: old output kept"; else t_bad "scratch file lost: old output kept"; fi
t_eq "scratch file lost: render cache kept" "$(stat -c '%n %i %y' "$P"/.tebiki-cache/render-*/*.bin 2>/dev/null | md5sum)" "$m1"

# --- an output its user made read-only ----------------------------------------
# chmod -R a-w on the output: the next builds still succeed (the work dir
# is the previous output: its directories are made writable again and its
# read-only files are made anew, never opened for writing) and make what
# a clean build makes.  Run as an unprivileged user (root ignores modes).
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		"$@"
	fi
}
R=$(mktemp -d "${TMPDIR:-/tmp}/tebiki-ro.XXXXXX"); chmod 755 "$R"
cp -R "$ROOT/tests/sites/basic" "$R/site"; rm -rf "$R/site/expected" "$R/site/public"
[ "$(id -u)" -eq 0 ] && chown -R 65534:65534 "$R/site"
if as_user "$TEBIKI" build -q -s "$R/site" >/dev/null 2>&1; then
	for k in 1 2 3; do
		chmod -R a-w "$R/site/public"
		echo "読み取り専用の後の行$k。" >>"$R/site/content/index.md"
		out=$(as_user $TEBIKI_VALGRIND "$TEBIKI" build -q -s "$R/site" 2>&1)
		t_eq "read-only output, build $k: exits 0" $? 0
		t_eq "read-only output, build $k: says nothing" "$out" ""
		t_contains "read-only output, build $k: has the edit" \
		    "$(cat "$R/site/public/index.html")" "読み取り専用の後の行$k"
	done
	as_user "$TEBIKI" build -q --no-cache -s "$R/site" -o "$R/site/clean" >/dev/null 2>&1
	if diff -r "$R/site/public" "$R/site/clean" >"$T_TMP/ro.diff"; then
		t_ok "read-only output: the clean build's site"
	else
		t_bad "read-only output: the clean build's site" "$(head -10 "$T_TMP/ro.diff")"
	fi
else
	T_SKIP=$((${T_SKIP:-0} + 1))
	echo "skip - cannot build as an unprivileged user here: no read-only output check"
fi
chmod -R u+w "$R"; rm -rf "$R"

t_done
