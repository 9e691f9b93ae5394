#!/bin/sh
# Print, PDF and single-file export: print.html of the example handbook
# (every document, in order, links inside the page, page breaks), PDFs of
# the workshop report and of the whole handbook (text, fonts, pages), the
# single-file export in a browser with every request intercepted, audience
# rules, and the error without Chromium.  Every Chromium run is bounded.
. "$ROOT/tests/lib.sh"
T_SKIP=0
t_skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $1"; }
done_skip() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}
TODAY="--today 2025-06-01"
# tebiki runs that start Chromium: bounded (tebiki bounds Chromium itself to 120 s)
tkt() { timeout 300 $TEBIKI_VALGRIND "$TEBIKI" "$@"; }
OUT=$T_TMP/site

# --- print.html --------------------------------------------------------
err=$(tk build -s "$ROOT" -o "$OUT" $TODAY 2>&1); st=$?
t_eq "example builds" $st 0
t_file "print.html is generated" "$OUT/print.html"
t_file "print.css is generated" "$OUT/print.css"
P=$(cat "$OUT/print.html" 2>/dev/null)
order=$(grep -o '<article class="doc print-doc[^"]*" id="doc-[^"]*"' "$OUT/print.html" |
    sed 's/.*id="doc-//; s/"$//' | tr '\n' ' ')
# every document of the example (not plain pages, not the home page)
missing=""
n=0
for f in $(cd "$ROOT/content" && grep -rl '^id:' --include='*.md' . | sort); do
	case $f in ./index.md|./pages/*) continue ;; esac
	grep -q '^type: page' "$ROOT/content/$f" && continue
	id=$(sed -n 's/^id: *//p' "$ROOT/content/$f" | head -n 1)
	n=$((n + 1))
	case " $order" in *" $id "*) ;; *) missing="$missing $id" ;; esac
done
t_eq "print.html holds every document ($n)" "$missing" ""
t_eq "one article per document" "$(echo $order | wc -w)" "$n"
case $order in "CH-16 CH-17 CH-18 "*) t_ok "chapters first, by number" ;;
	*) t_bad "chapters first, by number" "$order" ;; esac
t_contains "policy followed by its procedures" "$order" "POL-ACCESS PROC-ACCOUNT-01 PROC-MFA-01 POL-BACKUP PROC-BACKUP-01 "
t_contains "incident policy and its two procedures" "$order" "POL-INCIDENT PROC-INCIDENT-01 PROC-NOTIFY-01 "
case $order in *"REP-2023-12 INC-2023-07 LL-2023-01 LL-2023-02 LL-2023-03 LL-2023-04 ") t_ok "then reports, incidents, lessons" ;;
	*) t_bad "then reports, incidents, lessons" "$order" ;; esac
t_contains "cover with the site title" "$P" '<p class="print-cover-site">株式会社みなと精工 情報セキュリティハンドブック</p>'
t_contains "cover with the date" "$P" '2025年6月1日'
t_contains "cover with the classification" "$P" 'badge-class-confidential'
t_contains "table of contents links the documents" "$P" '<a href="#doc-POL-BACKUP">'
t_contains "document control of each document" "$P" 'id="doc-LL-2023-04-doccontrol"'
t_lacks "no scripts in print.html" "$P" '<script'
t_lacks "no links relative to a document's folder" "$P" 'href="../'
t_contains "links between documents become anchors" "$P" 'href="#doc-INC-2023-07"'
t_contains "links to other pages are relative to the root" "$P" 'href="pages/glossary.html"'
t_contains "heading ids made unique per document" "$P" 'id="doc-REP-2023-12--概要"'
bad=""
for a in $(grep -o 'href="#doc-[^"]*"' "$OUT/print.html" | sed 's/href="#//; s/"$//' | grep -v -- '--' | sort -u); do
	grep -q "id=\"$a\"" "$OUT/print.html" || bad="$bad $a"
done
t_eq "every #doc- anchor has its target" "$bad" ""
CSS=$(cat "$OUT/assets/style.css")
t_contains "each document starts on a new page" "$CSS" '.print-doc { break-before: page; }'
t_contains "page numbers in the page margin" "$CSS" 'content: counter(page) " / " counter(pages);'
t_contains "link targets after external links" "$CSS" 'content: " (" attr(href) ")"'
t_contains "print footer in the page margin" "$(cat "$OUT/print.css")" '@bottom-left { content: "印刷物は管理対象外です。'

out=$(tk build -q -s "$ROOT" -o "$T_TMP/pub" --audience public $TODAY 2>&1)
PP=$(cat "$T_TMP/pub/print.html" 2>/dev/null)
t_contains "public print.html has the public policy" "$PP" 'id="doc-POL-BASIC"'
t_lacks "public print.html leaves out internal documents" "$PP" 'id="doc-REP-2023-12"'
t_lacks "public print.html leaves out confidential documents" "$PP" 'INC-2023-07'
t_contains "public print.html is classified public" "$PP" 'badge-class-public'

# --- what the pages warn about, printed too --------------------------------------
# a procedure a lesson calls to update says so in print.html as on its page
out=$(tk build -q -s "$ROOT" -o "$T_TMP/stale" --today 2026-06-01 2>&1)
PS=$(cat "$T_TMP/stale/print.html" 2>/dev/null)
t_contains "print: the needs-update notice" "$PS" '<p class="banner banner-danger print-needs-update">インシデントの振り返りを受けて改訂が必要です。'
t_contains "print: the lesson it names" "$PS" '<span class="print-stale-lesson">LL-2023-01 バックアップは分離して保管し、全体の復元まで練習する</span>'
t_eq "print: as many notices as pages with the banner" "$(printf '%s\n' "$PS" | grep -c 'print-needs-update')" \
    "$(grep -l 'インシデントの振り返りを受けて改訂が必要です' "$T_TMP"/stale/procedures/*.html "$T_TMP"/stale/policies/*.html | wc -l)"

# --- a site without documents for print.html -----------------------------------
# (a new site with pages only): no print.html, no link to it, and
# pdf --all says there is nothing to print (chromium is not reached)
N=$T_TMP/pagesonly
(cd "$T_TMP" && tk new site pagesonly >/dev/null 2>&1)
printf -- '---\ntitle: 概要\n---\n\n本文。\n' > "$N/content/about.md"
tk build -q -s "$N" >/dev/null 2>&1
t_eq "pages only: builds" $? 0
[ -f "$N/public/print.html" ] && t_bad "pages only: no print.html" || t_ok "pages only: no print.html"
t_lacks "pages only: no link to print.html" "$(cat "$N/public/index.html" "$N/public/about.html")" 'print.html'
msg=$(TEBIKI_CHROMIUM=/bin/true tk pdf -s "$N" --all -o "$T_TMP/none.pdf" 2>&1); st=$?
t_eq "pages only: pdf --all exits 1" $st 1
t_contains "pages only: pdf --all says there is nothing to print" "$msg" "error: nothing to print: no document of this build goes into the handbook's print page"
t_lacks "pages only: pdf --all does not blame the theme" "$msg" "no print layout"
printf -- '---\nid: POL-X\ntitle: 方針\nowner: 総務部\nstatus: approved\ntype: policy\n---\n\n本文。\n' > "$N/content/policy.md"
tk build -q -s "$N" >/dev/null 2>&1
t_eq "with a policy: builds" $? 0
t_file "with a policy: print.html" "$N/public/print.html"
t_contains "with a policy: the pages link to print.html" "$(cat "$N/public/about.html")" 'href="print.html"'

# --- usage and audience errors (no browser needed) -----------------------
tk pdf -s "$ROOT" >/dev/null 2>&1; t_eq "pdf without documents is a usage error" $? 2
tk export -s "$ROOT" REP-2023-12 >/dev/null 2>&1; t_eq "export without --single-file is a usage error" $? 2
msg=$(TEBIKI_CHROMIUM=/nonexistent/chromium tk pdf -s "$ROOT" REP-2023-12 -o "$T_TMP/x.pdf" 2>&1); st=$?
t_eq "pdf without chromium exits 2" $st 2
t_contains "pdf without chromium says how to install it" "$msg" "apt-get install chromium fonts-noto-cjk"
msg=$(cd "$T_TMP" && tkt export -s "$ROOT" REP-2023-12 --single-file --audience public -o "$T_TMP/pub.html" 2>&1); st=$?
t_eq "export above the audience fails" $st 1
t_contains "export above the audience says why" "$msg" "document 'REP-2023-12' is classified 'internal', above the audience 'public'"
[ -f "$T_TMP/pub.html" ] && t_bad "no export file above the audience" || t_ok "no export file above the audience"
msg=$(tkt export -s "$ROOT" NOPE-1 --single-file -o "$T_TMP/nope.html" 2>&1); st=$?
t_eq "export of an unknown id fails" $st 1
t_contains "export of an unknown id says so" "$msg" "unknown document id 'NOPE-1'"

# --- PDF ---------------------------------------------------------------
have_pdf=1
if ! command -v chromium >/dev/null 2>&1; then
	have_pdf=0; t_skip "PDF tests: chromium is not installed (apt-get install chromium fonts-noto-cjk)"
elif ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdffonts >/dev/null 2>&1; then
	have_pdf=0; t_skip "PDF tests: poppler-utils is not installed (sh scripts/deps.sh --test)"
fi
# t_pdf_fonts NAME PDF: every font embedded; a Noto CJK one named, or the
# Type 3 fonts Chromium (Skia) writes for OpenType/CFF fonts such as Noto
# Sans CJK (which of the two is checked is printed)
t_pdf_fonts() {
	f=$(pdffonts "$2" 2>&1 | tail -n +3)
	if [ -z "$f" ]; then t_bad "$1: fonts in the PDF" "no fonts"; return; fi
	noemb=$(echo "$f" | awk '{ if ($(NF-4) != "yes") print }')
	t_eq "$1: every font embedded" "$noemb" ""
	if fc-list 2>/dev/null | grep -q IPAexGothic; then
		# with a TrueType Japanese font installed (scripts/deps.sh
		# --test installs fonts-ipaexfont-gothic) the print stylesheet
		# puts it first: it must be embedded as a named CID font
		if echo "$f" | grep -q 'IPAexGothic *CID TrueType.* yes'; then
			t_ok "$1: Japanese font embedded by name (IPAexGothic)"
		else
			t_bad "$1: Japanese font embedded by name (IPAexGothic)" "$f"
		fi
	elif echo "$f" | grep -q 'Noto.*CJK'; then
		t_ok "$1: Noto CJK font embedded by name"
	elif echo "$f" | grep -q 'Type 3.*yes.*yes'; then
		echo "note - $1: Chromium embeds Noto Sans CJK (CFF) as unnamed Type 3 glyph fonts; the browser check below verifies the face"
		t_ok "$1: CJK glyphs embedded (Type 3, with Unicode map)"
	else
		t_bad "$1: CJK font embedded" "$f"
	fi
}
if [ $have_pdf = 1 ]; then
	R=$T_TMP/rep.pdf
	msg=$(tkt pdf -s "$ROOT" REP-2023-12 -o "$R" $TODAY 2>&1); st=$?
	t_eq "pdf REP-2023-12 exits 0" $st 0
	t_file "pdf REP-2023-12 written" "$R"
	txt=$(pdftotext "$R" - 2>/dev/null)
	t_contains "report PDF: the title" "$txt" "ランサムウェア感染の振り返り報告"
	t_contains "report PDF: Japanese body text" "$txt" "本社会議室"
	t_contains "report PDF: the document id" "$txt" "REP-2023-12"
	t_contains "report PDF: id and version in the running header" "$txt" "REP-2023-12 版数 1.0"
	last=$(pdfinfo "$R" 2>/dev/null | sed -n 's/^Pages: *//p')
	if printf '%s\n' "$txt" | grep -Eq "^1 ?/ ?$last\$" && printf '%s\n' "$txt" | grep -Eq "^$last ?/ ?$last\$"; then
		t_ok "report PDF: page numbers 1/$last .. $last/$last"
	else t_bad "report PDF: page numbers" "$(printf '%s\n' "$txt" | grep -E '^[0-9]+ ?/')"; fi
	t_contains "report PDF: the print footer" "$txt" "印刷物は管理対象外です"
	t_lacks "report PDF: no navigation" "$txt" "サイト内メニュー"
	pages=$(pdfinfo "$R" 2>/dev/null | sed -n 's/^Pages: *//p')
	[ "${pages:-0}" -ge 2 ] && t_ok "report PDF has $pages pages (>= 2)" || t_bad "report PDF pages >= 2" "$pages"
	t_pdf_fonts "report PDF" "$R"

	# -o into a directory that is not there yet: made, as build -o does
	H=$T_TMP/new/dir/handbook.pdf
	msg=$(tkt pdf -s "$ROOT" --all -o "$H" $TODAY 2>&1); st=$?
	t_eq "pdf --all exits 0" $st 0
	txt=$(pdftotext "$H" - 2>/dev/null)
	t_contains "handbook PDF: the site title" "$txt" "株式会社みなと精工 情報セキュリティハンドブック"
	t_contains "handbook PDF: the cover" "$txt" "ハンドブック印刷版"
	t_contains "handbook PDF: the first chapter" "$txt" "CH-16"
	t_contains "handbook PDF: the last lesson" "$txt" "LL-2023-04"
	t_contains "handbook PDF: Japanese body text" "$txt" "本社会議室"
	pages=$(pdfinfo "$H" 2>/dev/null | sed -n 's/^Pages: *//p')
	[ "${pages:-0}" -gt 20 ] && t_ok "handbook PDF has $pages pages (> 20)" || t_bad "handbook PDF pages > 20" "$pages"
	t_pdf_fonts "handbook PDF" "$H"

	L=$T_TMP/lessons.pdf
	msg=$(tkt pdf -s "$ROOT" --type lesson -o "$L" $TODAY 2>&1); st=$?
	t_eq "pdf --type lesson exits 0" $st 0
	txt=$(pdftotext "$L" - 2>/dev/null)
	t_contains "lessons PDF has the first lesson" "$txt" "LL-2023-01"
	t_contains "lessons PDF has the last lesson" "$txt" "LL-2023-04"
	t_lacks "lessons PDF has no report" "$txt" "REP-2023-12"

	msg=$(tkt pdf -s "$ROOT" INC-2023-07 --audience public -o "$T_TMP/inc.pdf" 2>&1); st=$?
	t_eq "pdf of a confidential document for the public fails" $st 1
	t_contains "pdf above the audience says why" "$msg" "document 'INC-2023-07' is classified 'confidential', above the audience 'public'"
	[ -f "$T_TMP/inc.pdf" ] && t_bad "no PDF above the audience" || t_ok "no PDF above the audience"
fi

# --- single-file export --------------------------------------------------
E=$T_TMP/rep.html
msg=$(tkt export -s "$ROOT" REP-2023-12 --single-file -o "$E" $TODAY 2>&1); st=$?
t_eq "export REP-2023-12 exits 0" $st 0
X=$(cat "$E" 2>/dev/null)
t_lacks "export: no script" "$X" "<script"
t_lacks "export: not the site's CSP" "$X" "default-src 'self'"
t_contains "export: a CSP allowing only its own style" "$X" "default-src 'none'; img-src data:; style-src 'sha256-"
t_contains "export: the stylesheet inlined" "$X" "<style>"
t_lacks "export: no stylesheet link" "$X" '<link rel="stylesheet"'
t_lacks "export: without base_url no links to other pages" "$X" 'href="incidents/'
t_contains "export: the link text stays" "$X" "INC-2023-07"

# a copy of the example with base_url and an image in the report
S=$T_TMP/src
mkdir -p "$S"
for d in content catalogs data schema layouts filters; do
	[ -d "$ROOT/$d" ] && cp -r "$ROOT/$d" "$S/"
done
sed 's|^print_footer:|base_url: https://handbook.example.jp/\nprint_footer:|' "$ROOT/site.yaml" > "$S/site.yaml"
mkdir -p "$S/content/reports/img"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\rIDATx\332c\370\017\000\001\001\001\000\030\335\215\260\000\000\000\000IEND\256B`\202' > "$S/content/reports/img/dot.png"
printf '\n![図1 会場の配置](img/dot.png)\n' >> "$S/content/reports/2023-12-ransomware-review.md"
E2=$T_TMP/rep-base.html
msg=$(tkt export -s "$S" REP-2023-12 --single-file -o "$E2" $TODAY 2>&1); st=$?
t_eq "export with base_url exits 0" $st 0 
X2=$(cat "$E2" 2>/dev/null)
t_contains "export: links become absolute under base_url" "$X2" 'href="https://handbook.example.jp/incidents/2023-07-ransomware.html"'
t_contains "export: images become data: URIs" "$X2" 'src="data:image/png;base64,iVBORw0KGgo'

BR=$ROOT/tests/browser
if ! command -v node >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
	t_skip "browser check of the export: node or chromium missing"
else
	if [ ! -d "$BR/node_modules/playwright-core" ]; then
		(cd "$BR" && npm ci --no-audit --no-fund >"$T_TMP/npm" 2>&1) ||
		    t_bad "npm ci in tests/browser" "$(tail -5 "$T_TMP/npm")"
	fi
	for f in "$E" "$E2"; do
		if [ "$f" = "$E" ]; then args="$E $OUT/print.html"; else args=$E2; fi
		res=$(CHROMIUM=$(command -v chromium) timeout 120 node "$BR/export.mjs" $args 2>&1); st=$?
		printf '%s\n' "$res" | sed 's/^/    /'
		line=$(printf '%s\n' "$res" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
		p=${line%% passed*}
		fl=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
		if [ -z "$line" ]; then t_bad "export.mjs $(basename "$f") ran" "exit $st"
		else
			T_PASS=$((T_PASS + p)); T_FAIL=$((T_FAIL + fl))
			[ $st -ne 0 ] && [ "$fl" -eq 0 ] && t_bad "export.mjs exit $st"
		fi
	done
fi
done_skip
