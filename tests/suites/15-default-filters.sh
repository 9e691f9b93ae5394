#!/bin/sh
# The shipped filters on a real build: control mentions in Japanese text
# become links (and references on the control pages); glossary terms are
# linked on first use; what must be left alone is.
. "$ROOT/tests/lib.sh"
S=$T_TMP/site; mkdir -p "$S/content/procedures" "$S/data" "$S/layouts"
cat > "$S/site.yaml" <<'EOT'
title: フィルタ
filters: [filters/control-links.lua, filters/glossary.lua]
EOT
printf '{{{page.content}}}\n' > "$S/layouts/page.mustache"
cat > "$S/data/glossary.yaml" <<'EOT'
- {term: EDR, definition: 端末の振る舞いを監視する仕組み。}
- {term: ランサムウェア, definition: ファイルを暗号化して身代金を要求するプログラム。}
- {term: ランサム, definition: 身代金。}
EOT
cat > "$S/content/procedures/p.md" <<'EOT'
---
id: PROC-T
title: 手順
owner: 課
status: approved
---
## 見出しの8.13は対象外

管理策8.13の対策として取得する（8.13）。A.5.24に従う。詳細は8.13。

版番号v8.13と8.13.1と2.0.1、未定義の9.99、1.5は対象外。`8.13` も対象外。[8.13の説明](#x)も対象外。

連続: 5.1、8.13、5.24。範囲1.2.3と8.13。末尾.8.13と8..13。

EDRを導入した。EDRS と XEDR は別物。EDRは二回目なので対象外。ランサムウェアの被害。

表記 [8.13](ctl:8.13) も使える。
EOT
out=$(tk build -s "$S" -o "$T_TMP/out" --today 2025-01-01 2>&1); t_eq "builds" $? 0
h=$(cat "$T_TMP/out/procedures/p.html")
link='<a href="../controls/8.13.html" title="8.13 '
t_contains "8.13 in a Japanese sentence" "$h" "管理策${link}"
t_contains "（8.13）" "$h" '（<a href="../controls/8.13.html"'
t_contains "8.13。" "$h" '詳細は<a href="../controls/8.13.html"'
t_contains "A.5.24" "$h" 'data-control="5.24">A.5.24</a>に従う'
t_contains "version-like numbers left alone" "$h" "版番号v8.13と8.13.1と2.0.1、未定義の9.99、1.5は対象外"
t_contains "several ids in one run" "$h" '連続: <a href="../controls/5.1.html"'
t_contains "several ids in one run (last)" "$h" 'data-control="5.24">5.24</a>。範囲'
t_contains "an id after a version number" "$h" '範囲1.2.3と<a href="../controls/8.13.html"'
t_contains "a dot before, two dots: left alone" "$h" '末尾.8.13と8..13。'
t_contains "code left alone" "$h" "<code>8.13</code>"
t_contains "existing link left alone" "$h" '<a href="#x">8.13の説明</a>'
t_contains "heading left alone" "$h" "見出しの8.13は対象外</h2>"
t_contains "ctl: links resolve" "$h" '<a href="../controls/8.13.html">8.13</a>'
n=$(printf '%s' "$h" | grep -o 'class="term"' | wc -l)
t_eq "each term linked once (EDR, ランサムウェア)" "$n" 2
t_contains "first EDR linked with its definition" "$h" 'data-definition="端末の振る舞いを監視する仕組み。">EDR</a>を導入'
t_contains "EDRS/XEDR not terms" "$h" "EDRS と XEDR は別物"
t_contains "longest term wins" "$h" '>ランサムウェア</a>の被害'
c=$(cat "$T_TMP/out/controls/8.13.html")
t_contains "control page lists the mentioning procedure" "$c" 'href="../procedures/p.html"'
t_contains "A.5.24 page lists it too" "$(cat "$T_TMP/out/controls/5.24.html")" 'href="../procedures/p.html"'
# a user filter adds a page in link(); it is rendered like the others
mkdir -p "$S/filters"
cat > "$S/filters/addpage.lua" <<'EOT'
return {
  link = function(site)
    local n = 0
    for _, p in ipairs(site.pages) do n = n + 1 end
    site.add_page{path = "content/reports/summary.md", type = "page",
      title = "集計", markdown = "ページ数は" .. n .. "。[手順](id:PROC-T)と管理策8.13。"}
  end,
}
EOT
sed -i 's#filters: \[#filters: [filters/addpage.lua, #' "$S/site.yaml"
out=$(tk build -s "$S" -o "$T_TMP/out2" --today 2025-01-01 2>&1); t_eq "build with add_page" $? 0
a=$(cat "$T_TMP/out2/reports/summary.html" 2>/dev/null)
t_contains "added page rendered" "$a" "ページ数は1。"
t_contains "added page links resolved" "$a" 'href="../procedures/p.html"'
t_contains "added page gets element filters" "$a" 'href="../controls/8.13.html"'
sed -i 's#filters/addpage.lua, ##' "$S/site.yaml"

# page.doc in collect: the tree is parsed on demand (pages are not kept
# parsed between the passes)
cat > "$S/filters/count.lua" <<'EOT'
return {
  collect = function(page)
    local n = 0
    page.doc:walk{ Header = function(h) n = n + 1 end }
    page.data.nheads = n
  end,
  { Pandoc = function(doc)
      doc.blocks:insert(pandoc.Para{pandoc.Str("見出し数:" .. PAGE.data.nheads)})
      return doc
    end },
}
EOT
sed -i 's#filters: \[#filters: [filters/count.lua, #' "$S/site.yaml"
out=$(tk build -s "$S" -o "$T_TMP/out3" --today 2025-01-01 2>&1); t_eq "build with page.doc in collect" $? 0
t_contains "collect read the parsed page" "$(cat "$T_TMP/out3/procedures/p.html")" "見出し数:1"
sed -i 's#filters/count.lua, ##' "$S/site.yaml"

# a broken user filter fails the build with its file and line, old output kept
mkdir -p "$S/filters"
printf 'return {{\n  Str = function(s)\n    error("boom")\n  end,\n}}\n' > "$S/filters/bad.lua"
sed -i 's#filters: \[#filters: [filters/bad.lua, #' "$S/site.yaml"
cp -R "$T_TMP/out" "$T_TMP/before"
out=$(tk build -s "$S" -o "$T_TMP/out" --today 2025-01-01 2>&1); t_eq "failing filter exits 1" $? 1
t_contains "filter error names file and line" "$out" "filters/bad.lua:3:"
t_contains "filter error names the page" "$out" "content/procedures/p.md"
if diff -r "$T_TMP/before" "$T_TMP/out" >/dev/null; then t_ok "old output kept"; else t_bad "old output kept"; fi
printf 'while true do end\n' > "$S/filters/bad.lua"
printf 'lua: {instructions: 1000000}\n' >> "$S/site.yaml"
start=$(date +%s)
out=$(timeout 60 "$TEBIKI" build -s "$S" -o "$T_TMP/out" 2>&1); st=$?
t_eq "endless loop stopped" $st 1
t_contains "instruction budget message" "$out" "filters/bad.lua"
[ $(( $(date +%s) - start )) -lt 20 ] && t_ok "stopped quickly" || t_bad "stopped quickly"
# collect() of several filter files runs as a pipeline (one thread per
# file): a file sees, for each page, what the files before it set -- never
# less, even when the first file is slow
P=$T_TMP/pipe; mkdir -p "$P/content" "$P/filters"
printf 'title: pipe\nfilters: [filters/a.lua, filters/b.lua]\nsearch: false\n' > "$P/site.yaml"
i=0
while [ $i -lt 40 ]; do
	printf -- '---\ntitle: p%s\n---\n本文 %s\n' $i $i > "$P/content/p$i.md"
	i=$((i + 1))
done
cat > "$P/filters/a.lua" <<'EOT'
return { collect = function(page)
  local x = 0
  for i = 1, 20000 do x = x + i % 7 end   -- slow on purpose
  page.data.a = page.path .. "#" .. x
end }
EOT
cat > "$P/filters/b.lua" <<'EOT'
return {
  collect = function(page) page.data.b = page.data.a end,
  link = function(site)
    for _, p in ipairs(site.pages) do
      if p.data.b == nil or p.data.b ~= p.data.a then
        site.error(p, "collect of b.lua ran before a.lua")
      end
    end
  end,
}
EOT
out=$(tk build -s "$P" -o "$P/public" 2>&1); st=$?
t_eq "two files' collect: build succeeds" $st 0
t_lacks "b.lua's collect saw a.lua's page.data on every page" "$out" "ran before"

# page_local collects side by side: with more threads than collecting
# files, pages are collected by several Lua states at once;
# the site must come out exactly as with one thread
L=$T_TMP/local; mkdir -p "$L"
cp -R "$ROOT/content" "$ROOT/data" "$ROOT/catalogs" "$L/"
sed -e '/^filters:/,/^  - filters\/glossary.lua$/d' "$ROOT/site.yaml" > "$L/site.yaml"
echo "filters: [filters/control-links.lua, filters/size.lua]" >> "$L/site.yaml"
mkdir -p "$L/filters"
cat > "$L/filters/size.lua" <<'EOT'
-- collect's result shows on every page: a page that missed its collect
-- would say "size nil"
return {
  page_local = true,
  collect = function(page) page.data.size = #(page.text or "") end,
  { Pandoc = function(doc)
      doc.blocks:insert(pandoc.Para{pandoc.Str("size-" ..
        tostring(PAGE.data.size))})
      return doc
    end },
}
EOT
TEBIKI_TIMING=1 tk build -j 4 --no-cache -s "$L" -o "$L/p3" --today 2025-06-01 >/dev/null 2>"$T_TMP/l3.err"
t_eq "page_local collect, 4 threads: build" $? 0
t_contains "collect ran on 4 threads" "$(cat "$T_TMP/l3.err")" "collect on 4 threads, by page"
# as many threads as collecting files: still by page (the pipeline, one
# thread per file, is as slow as the slowest file)
TEBIKI_TIMING=1 tk build -j 2 --no-cache -s "$L" -o "$L/p2" --today 2025-06-01 >/dev/null 2>"$T_TMP/l2.err"
t_contains "2 threads, 2 files: collect by page" "$(cat "$T_TMP/l2.err")" "collect on 2 threads, by page"
if diff -r "$L/p3" "$L/p2" >/dev/null; then t_ok "2 threads by page: the same site"
else t_bad "2 threads by page: the same site" "$(diff -r "$L/p3" "$L/p2" | head -5)"; fi
tk build -j 1 --no-cache -s "$L" -o "$L/p1" --today 2025-06-01 >/dev/null 2>&1
t_eq "page_local collect, 1 thread: build" $? 0
if diff -r "$L/p1" "$L/p3" >/dev/null; then
	t_ok "1 and 4 collect threads give the same site"
else
	t_bad "1 and 4 collect threads give the same site" "$(diff -r "$L/p1" "$L/p3" | head -5)"
fi
t_lacks "every page was collected" "$(cat "$L"/p3/*/*.html)" "size-nil"
# a filter worker that grew is replaced by a new one between pages (its Lua
# states keep what filters read of SITE); here after every page: the site
# must not change
TEBIKI_TIMING=1 TEBIKI_TEST_WORKER_MAX=0 tk build -j 2 --no-cache -s "$L" \
    -o "$L/pr" --today 2025-06-01 >/dev/null 2>"$T_TMP/lr.err"
t_eq "workers replaced after every page: build" $? 0
n=$(sed -n 's/.*timing: \([0-9]*\) filter workers replaced.*/\1/p' "$T_TMP/lr.err")
[ "${n:-0}" -ge 20 ] && t_ok "workers were replaced ($n times)" ||
	t_bad "workers were replaced" "$(grep replaced "$T_TMP/lr.err")"
if diff -r "$L/p1" "$L/pr" >/dev/null; then
	t_ok "replacing workers changes nothing"
else
	t_bad "replacing workers changes nothing" "$(diff -r "$L/p1" "$L/pr" | head -5)"
fi
t_contains "mentions still linked" "$(cat "$L/p3/procedures/backup.html")" 'class="control-ref"'

t_done
