#!/bin/sh
# tebiki new: a site skeleton and a document of every type that builds
# cleanly; ids, folders, languages; never overwriting.
. "$ROOT/tests/lib.sh"
S=$T_TMP/site
out=$(tk new site "$S" 2>&1); t_eq "new site" $? 0
t_file "site.yaml created" "$S/site.yaml"
tk new site "$S" >/dev/null 2>&1; t_eq "new site refuses an existing site" $? 2
# the printed command can be pasted into a shell as it is
out=$(cd "$T_TMP" && tk new site "my site" 2>&1)
t_eq "new site with a space: quoted" "$out" "created a site in 'my site'; build it with: tebiki build -s 'my site'"
out=$(cd "$T_TMP" && tk new site "it's \$x" 2>&1)
t_eq "new site with a quote and a dollar: quoted" "$out" "created a site in 'it's \$x'; build it with: tebiki build -s 'it'\\''s \$x'"
(cd "$T_TMP" && eval "tk build -q ${out#*build it with: tebiki build }"); t_eq "the printed command builds that site" $? 0
t_file "the printed command built it" "$T_TMP/it's \$x/public/index.html"
out=$(cd "$T_TMP" && tk new site "手引き" 2>&1)
t_eq "new site with a plain name: not quoted" "$out" "created a site in '手引き'; build it with: tebiki build -s 手引き"
for t in chapter policy procedure report incident lesson page incident-review; do
	p=$(tk new -s "$S" --today 2025-01-01 $t "題名: $t [テスト] #1" 2>&1); st=$?
	t_eq "new $t" $st 0
	t_file "new $t file" "$p"
done
p=$(tk new -s "$S" --lang en --today 2025-01-01 procedure "English procedure"); t_eq "new --lang en" $? 0
t_contains "english archetype" "$(cat "$p")" "lang: en"
t_file "second policy gets the next id" "$S/content/policies/pol-001.md"
p=$(tk new -s "$S" policy "Second" --today 2025-01-01); t_eq "next id" "$p" "$S/content/policies/pol-002.md"
t_contains "fresh id in front matter" "$(cat "$p")" "id: POL-002"
t_contains "today's date" "$(cat "$p")" "effective: 2025-01-01"
before=$(cat "$S/content/policies/pol-001.md")
err=$(tk new -s "$S" policy "Again" --id POL-001 2>&1); t_eq "refuses to overwrite" $? 2
t_contains "overwrite message" "$err" "already exists; not overwriting it"
t_eq "existing file untouched" "$(cat "$S/content/policies/pol-001.md")" "$before"
tk new -s "$S" policy "Bad" --id "../x" >/dev/null 2>&1; t_eq "bad id refused" $? 2
tk new -s "$S" memo "x" >/dev/null 2>&1; t_eq "unknown type refused" $? 2
r=$(cat "$S/content/reports/rev-001.md")
for phase in "インシデント報告" "教訓" "セキュリティ対策の見直し" "従業員の教育と意識向上" "コミュニケーション計画" "リスク管理プロセス" "バックアップと復旧戦略"; do
	t_contains "incident review has phase $phase" "$r" "$phase"
done
t_contains "incident review has action items" "$r" "actions:"
out=$(tk build -s "$S" --today 2025-01-02 2>&1); st=$?
t_eq "the new site builds" $st 0
t_lacks "no errors" "$out" "error:"
t_lacks "no warnings" "$out" "warning:"
t_contains "title with YAML specials kept" "$(cat "$S/public/policies/pol-001.html")" "題名: policy [テスト] #1"

# outside a site, `new TYPE` writes nothing; a site inside another
# site's content/ is refused (its files would be that site's pages)
E=$T_TMP/nosite; mkdir -p "$E"
err=$(cd "$E" && tk new policy "迷子" 2>&1); st=$?
t_eq "new outside a site exits 2" $st 2
t_contains "new outside a site says so" "$err" "no site in '.'"
t_eq "new outside a site writes nothing" "$(ls -A "$E")" ""
err=$(tk new site "$S/content/inner" 2>&1); st=$?
t_eq "a site inside a site's content/ is refused" $st 2
t_contains "a site inside a site's content/ says why" "$err" "is inside the content of the site in"
[ -e "$S/content/inner" ] && t_bad "nothing made inside content/" || t_ok "nothing made inside content/"
t_done
