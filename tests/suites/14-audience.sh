#!/bin/sh
# Audience builds: with --audience public (or internal) no byte of a page
# classified above it reaches any output file.
. "$ROOT/tests/lib.sh"
S=$T_TMP/aud; mkdir -p "$S/content/policies" "$S/content/procedures" "$S/content/files" "$S/content/lessons" "$S/data"
M=SECRET-MARKER-91ab
cat > "$S/site.yaml" <<EOT
title: 公開テスト
default_classification: internal
excluded_links: text
catalogs: [catalogs/iso27001-2022.yaml]
EOT
mkdir -p "$S/catalogs"; cp "$ROOT/catalogs/iso27001-2022.yaml" "$S/catalogs/"
cat > "$S/content/policies/public.md" <<EOT
---
id: POL-PUB
title: 公開方針
owner: 総務
status: approved
classification: public
controls: ["8.13"]
tags: [公開タグ]
---
公開の本文。[社外秘の手順](../procedures/internal.md) と [極秘](id:PROC-$M)。
EOT
cat > "$S/content/procedures/internal.md" <<EOT
---
id: PROC-INT
title: 社内手順 INTERNAL-MARKER-55cd
owner: 情報システム課
status: approved
classification: internal
implements: [POL-PUB]
controls: ["8.13", "5.1"]
---
社内の本文 INTERNAL-MARKER-55cd。
EOT
cat > "$S/content/procedures/secret.md" <<EOT
---
id: PROC-$M
title: 極秘手順 $M
summary: 要約 $M
owner: 担当 $M
approver: 承認 $M
status: approved
classification: confidential
implements: [POL-PUB]
controls: ["8.13", "7.4"]
tags: [$M, 公開タグ]
revisions:
  - {version: "1", date: 2024-01-01, note: 改訂 $M}
---
## 見出し $M

本文 $M の連絡先表。![図]( ../files/secret-only.txt) [添付](../files/secret-only.txt)
EOT
cat > "$S/content/lessons/secret-lesson.md" <<EOT
---
id: LL-$M
title: 教訓 $M
date: 2099-01-01
classification: confidential
affects: [POL-PUB, "8.13"]
actions:
  - {what: 対策 $M, owner: 担当 $M, due: 2000-01-01, status: open}
---
教訓 $M
EOT
echo "attachment $M" > "$S/content/files/secret-only.txt"
echo "shared attachment" > "$S/content/files/shared.txt"
out=$(tk build -s "$S" -o "$T_TMP/all" --today 2025-01-01 2>&1); t_eq "full build" $? 0
if grep -rq "$M" "$T_TMP/all"; then t_ok "full build contains the marker (test is meaningful)"; else t_bad "full build contains the marker"; fi
for aud in public internal; do
	out=$(tk build -s "$S" -o "$T_TMP/$aud" --audience $aud --today 2025-01-01 2>&1); st=$?
	t_eq "$aud build" $st 0
	hits=$(grep -rl -a "$M" "$T_TMP/$aud" 2>/dev/null | head -5)
	t_eq "$aud: no output file contains the marker" "$hits" ""
	hits=$(grep -rl -a "PROC-$M\|secret-only" "$T_TMP/$aud" 2>/dev/null | head -5)
	t_eq "$aud: no trace of the id or attachment" "$hits" ""
	t_file "$aud: public page built" "$T_TMP/$aud/policies/public.html"
	[ -e "$T_TMP/$aud/procedures/secret.html" ] && t_bad "$aud: secret page left out" || t_ok "$aud: secret page left out"
	[ -e "$T_TMP/$aud/files/secret-only.txt" ] && t_bad "$aud: attachment left out" || t_ok "$aud: attachment left out"
done
if grep -rq "INTERNAL-MARKER-55cd" "$T_TMP/public"; then t_bad "public: internal page left out"; else t_ok "public: internal page left out"; fi
t_contains "internal build keeps internal pages" "$(cat "$T_TMP/internal/procedures/internal.html")" "INTERNAL-MARKER-55cd"
t_contains "link to a left-out page becomes text" "$(cat "$T_TMP/public/policies/public.html")" "社外秘の手順"
t_lacks "no link to the left-out page" "$(cat "$T_TMP/public/policies/public.html")" "internal.html"
# the strict default: such links are errors
sed -i '/^excluded_links/d' "$S/site.yaml"
out=$(tk build -s "$S" -o "$T_TMP/strict" --audience public --today 2025-01-01 2>&1); t_eq "links to left-out pages are errors by default" $? 1
t_contains "error names the link" "$out" "content/policies/public.md:10:"
# the example handbook
tk build -s "$ROOT" -o "$T_TMP/ex-public" --audience public --today 2025-06-01 >/dev/null 2>&1; t_eq "example public build" $? 0
hits=$(grep -rl -a "CONFIDENTIAL-MARKER-7f3a" "$T_TMP/ex-public" | head -3)
t_eq "example public build has no confidential marker" "$hits" ""
tk build -s "$ROOT" -o "$T_TMP/ex-all" --today 2025-06-01 >/dev/null 2>&1
if grep -rq "CONFIDENTIAL-MARKER-7f3a" "$T_TMP/ex-all"; then t_ok "example full build has the marker"; else t_bad "example full build has the marker"; fi
t_done
