#!/bin/sh
# Handbook model details: an OSCAL catalog next to the default one, drafts
# left out by a site option, hostile front matter rendered inert, symlinks
# out of the site not followed.
. "$ROOT/tests/lib.sh"
S=$T_TMP/site; mkdir -p "$S/content/policies" "$S/catalogs"
cp "$ROOT/tests/sites/errors-model/catalogs/csf-oscal.json" "$S/catalogs/"
cat > "$S/site.yaml" <<'EOT'
title: OSCAL
catalogs:
  - catalogs/iso27001-2022.yaml
  - {file: catalogs/csf-oscal.json, prefix: csf}
build_drafts: false
EOT
cat > "$S/content/policies/p.md" <<'EOT'
---
id: POL-1
title: 方針
owner: 課
status: approved
controls: ["8.13", "csf:PR.DS-11", "CSF:pr.ds"]
---
本文。
EOT
cat > "$S/content/policies/draft.md" <<'EOT'
---
id: POL-DRAFT
title: 下書きの方針 DRAFT-MARKER
owner: 課
status: draft
---
DRAFT-MARKER
EOT
out=$(tk build -s "$S" -o "$T_TMP/o" 2>&1); t_eq "builds with an OSCAL catalog" $? 0
t_file "OSCAL control page" "$T_TMP/o/controls/csf/PR.DS-11.html"
t_file "nested OSCAL control page" "$T_TMP/o/controls/csf/PR.DS.html"
t_contains "OSCAL title" "$(cat "$T_TMP/o/controls/csf/PR.DS-11.html")" "Backups of data"
t_contains "OSCAL control lists the policy" "$(cat "$T_TMP/o/controls/csf/PR.DS-11.html")" 'href="../../policies/p.html"'
t_contains "policy links the OSCAL control" "$(cat "$T_TMP/o/policies/p.html")" 'href="../controls/csf/PR.DS-11.html"'
rows=$(grep -c '<tr><th scope="row">' "$T_TMP/o/soa.html"); t_eq "SoA has ISO and CSF rows" "$rows" 95
if grep -rq "DRAFT-MARKER" "$T_TMP/o"; then t_bad "draft left out (build_drafts: false)"; else t_ok "draft left out (build_drafts: false)"; fi
sed -i 's/^build_drafts: false/build_drafts: true/' "$S/site.yaml"
tk build -q -s "$S" -o "$T_TMP/o" 2>/dev/null
t_contains "draft built and marked" "$(cat "$T_TMP/o/policies/draft.html")" "badge-draft"

# hostile front matter and Markdown
X=$T_TMP/xss; mkdir -p "$X/content/policies"
cat > "$X/site.yaml" <<'EOT'
title: "<script>alert('site')</script>"
catalogs: []
EOT
cat > "$X/content/policies/x.md" <<'EOT'
---
id: POL-X
title: "<script>alert(1)</script>"
summary: "\"><img src=x onerror=alert(2)>"
owner: "<b onmouseover=alert(3)>"
status: approved
version: "</script><script>alert(4)</script>"
tags: ["<svg onload=alert(5)>", "\u2028"]
revisions:
  - {version: "1", date: 2024-01-01, note: "<iframe src=javascript:alert(6)>"}
---
[a](javascript:alert(7)) [b](JaVaScRiPt:alert(8)) [c](vbscript:x) ![d](data:text/html,<script>alert(9)</script>)
<script>alert(10)</script> <img src=x onerror=alert(11)>
EOT
tk build -q -s "$X" -o "$T_TMP/xo" 2>/dev/null; t_eq "hostile site builds" $? 0
bad=$(grep -rlE "<script>alert|<img src=x onerror|<svg onload|<iframe|<b onmouseover" "$T_TMP/xo" | head -3)
t_eq "no live markup from front matter or Markdown" "$bad" ""
t_contains "the title is there, escaped" "$(cat "$T_TMP/xo/policies/x.html")" "&lt;script&gt;alert(1)&lt;/script&gt;"
t_contains "the owner is there, escaped" "$(cat "$T_TMP/xo/policies/x.html")" "&lt;b onmouseover=alert(3)&gt;"
bad=$(grep -rhoiE 'href="(javascript|vbscript|data):[^"]*"|src="(javascript|data:text)[^"]*"' "$T_TMP/xo" | head -3)
t_eq "no dangerous URL in href/src" "$bad" ""
bad=$(grep -rl -F '</script><script>alert(4)' "$T_TMP/xo/search" | head -3)
t_eq "search index escapes </script>" "$bad" ""
t_contains "CSP meta on every page" "$(cat "$T_TMP/xo/policies/x.html")" 'http-equiv="Content-Security-Policy"'

# symlinks out of the site are not followed
L=$T_TMP/links; mkdir -p "$L/content" "$T_TMP/outside"
echo "OUTSIDE-SECRET" > "$T_TMP/outside/secret.md"
echo "# ok" > "$L/content/index.md"
ln -s "$T_TMP/outside/secret.md" "$L/content/leak.md"
ln -s "$T_TMP/outside" "$L/content/dir"
out=$(tk build -s "$L" -o "$T_TMP/lo" 2>&1); t_eq "site with outside symlinks builds" $? 0
t_contains "symlink warning" "$out" "content/leak.md: warning: symbolic link points outside the site; not followed"
if grep -rq "OUTSIDE-SECRET" "$T_TMP/lo"; then t_bad "outside file not read"; else t_ok "outside file not read"; fi
# many lessons on one document: one needs-update warning per document
# (the first three named, then a count) and a capped dashboard list
M=$T_TMP/many; mkdir -p "$M/content/procedures" "$M/content/lessons"
printf 'title: Many\n' > "$M/site.yaml"
cat > "$M/content/procedures/p.md" <<'EOT'
---
id: PROC-MANY
title: 手順
owner: 課
status: approved
reviewed: 2020-01-01
review_every: 10y
---
本文。
EOT
for i in 1 2 3 4 5 6 7; do
cat > "$M/content/lessons/l$i.md" <<EOT
---
id: LL-MANY-$i
title: 教訓 $i
type: lesson
date: 2021-0$i-01
affects: [PROC-MANY]
owner: 課
status: approved
---
本文。
EOT
done
out=$(tk build -s "$M" -o "$T_TMP/mo" --today 2025-01-01 2>&1); t_eq "site with many lessons builds" $? 0
n=$(printf '%s\n' "$out" | grep -c "needs update")
t_eq "one needs-update warning for the document" "$n" 1
t_contains "the warning names three lessons and counts the rest" "$out" "content/procedures/p.md:6:11: warning: needs update: 7 lessons affect it after its last review (2020-01-01): 'LL-MANY-1' (2021-01-01), 'LL-MANY-2' (2021-02-01), 'LL-MANY-3' (2021-03-01) and 4 more [needs-update]"
d=$(cat "$T_TMP/mo/dashboard.html")
n=$(printf '%s' "$d" | sed -n '/id="stale"/,/id="overdue"/p' | grep -o 'href="lessons/l[0-9].html"' | wc -l)
t_eq "the dashboard names five lessons" "$n" 5
t_contains "and counts the rest" "$d" '<span class="more">ほか 2 件</span>'
pp=$(cat "$T_TMP/mo/procedures/p.html")
n=$(printf '%s' "$pp" | grep -o '次の教訓を反映してください：' | wc -l)
t_eq "the page has a banner for each of three lessons" "$n" 3
t_contains "and one for the rest, to the dashboard" "$pp" 'ほかにも反映すべき教訓があります (4) <a href="../dashboard.html#stale">'
# blank front-matter values: an untyped page has no required field, so a
# blank title falls back to the first heading and a blank id is no id;
# a policy with an empty id is an error at the value, once per page
E=$T_TMP/blank; mkdir -p "$E/content/policies"
printf 'title: Blank\ncatalogs: []\n' > "$E/site.yaml"
printf -- '---\nid: "  "\ntitle: "　"\n---\n# 見出しの題名\n' > "$E/content/blank.md"
out=$(tk build -s "$E" -o "$T_TMP/eo" 2>&1); t_eq "blank title and id on a page build" $? 0
t_contains "blank title falls back to the first heading" "$(cat "$T_TMP/eo/blank.html")" "<title>見出しの題名"
printf -- '---\nid:\ntitle: 方針\nowner: 課\nstatus: draft\n---\n' > "$E/content/policies/p1.md"
printf -- '---\nid: ""\ntitle: 方針\nowner: 課\nstatus: draft\n---\n' > "$E/content/policies/p2.md"
out=$(tk check -s "$E" 2>&1); t_eq "empty ids: check exits 1" $? 1
t_eq "empty ids: one error each, no duplicate id" "$out" "content/policies/p1.md:2:4: error: empty required field 'id' for a policy
content/policies/p2.md:2:5: error: empty required field 'id' for a policy
tebiki: 2 errors"
t_done
