#!/bin/sh
# Suite: the example handbook (site.yaml, content/, data/, catalogs/) is
# consistent: every YAML block parses with the project's loader, the default
# catalog has exactly the 93 Annex A ids, the applicability data covers them,
# every id and control cited exists, every relative link points to a file,
# required front matter is present per type, and the confidential marker sits
# once in each confidential page and nowhere else.
#
# Needs $TEBIKI_BUILD/tools/yamlcheck (make tools).  Ends with
# "N passed, N failed" and exits 1 on any failure.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${TEBIKI_BUILD:-$ROOT/build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
YC=$B/tools/yamlcheck
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check NAME COND-STATUS: counts one assertion
check() { if [ "$2" -eq 0 ]; then ok; else bad "$1"; fi; }

if [ ! -x "$YC" ]; then
	echo "FAIL: $YC missing (run make tools)"
	echo "0 passed, 1 failed"
	exit 1
fi
cd "$ROOT" || exit 1
CAT=catalogs/iso27001-2022.yaml
APP=data/applicability.yaml
GLO=data/glossary.yaml
find content -name '*.md' | LC_ALL=C sort > "$tmp/pages"

# -- every YAML block parses ------------------------------------------------
for f in site.yaml $CAT $APP $GLO $(cat "$tmp/pages"); do
	"$YC" "$f" > "$tmp/out" 2>&1
	check "yaml in $f: $(cat "$tmp/out")" $?
done

# -- catalog: exactly the 93 ids, groups, short titles ------------------------
"$YC" --get 'controls.*.id' $CAT > "$tmp/ids"
: > "$tmp/want"
for g in 5:37 6:8 7:14 8:34; do
	n=1
	while [ $n -le "${g#*:}" ]; do
		echo "${g%:*}.$n" >> "$tmp/want"
		n=$((n + 1))
	done
done
diff "$tmp/want" "$tmp/ids" > "$tmp/out"
check "catalog ids differ from 5.1-5.37, 6.1-6.8, 7.1-7.14, 8.1-8.34: $(cat "$tmp/out")" $?
[ "$("$YC" --get prefix $CAT)" = iso ] && [ "$("$YC" --get id $CAT)" = iso27001-2022 ]
check "catalog id/prefix" $?
"$YC" --get 'controls.*' $CAT | sed -E 's/.*"id":"([0-9]+)\.[0-9]+","group":"([0-9]+)".*/\1 \2/' |
    awk '$1 != $2 { bad = 1 } END { exit bad }'
check "catalog: a control's group is not its leading number" $?
for lang in ja en; do
	n=$("$YC" --get "controls.*.title.$lang" $CAT | grep -c .)
	[ "$n" -eq 93 ]
	check "catalog: $n of 93 controls have a '$lang' title" $?
done
# ja titles at most 25 characters (count UTF-8 lead bytes)
"$YC" --get 'controls.*.title.ja' $CAT | LC_ALL=C awk '{ s = $0; gsub(/[\200-\277]/, "", s); if (length(s) > 25) { print; bad = 1 } } END { exit bad }' > "$tmp/out"
check "catalog: ja titles longer than 25 characters: $(cat "$tmp/out")" $?

# -- applicability covers every control ----------------------------------------
"$YC" --keys '' $APP | diff "$tmp/ids" - > "$tmp/out"
check "applicability keys differ from the catalog: $(cat "$tmp/out")" $?
"$YC" --get '*.status' $APP | grep -vxE 'implemented|partial|planned|not-applicable' > "$tmp/out"
check "applicability: bad status: $(cat "$tmp/out")" $((1 - $?))
"$YC" --get '*' $APP | grep -v '"justification":"[^"]' > "$tmp/out"
check "applicability: entries without justification: $(cat "$tmp/out")" $((1 - $?))
"$YC" --get '*' $APP | grep -E '"applicable":false' | grep -v '"status":"not-applicable"' > "$tmp/out"
check "applicability: not applicable but status is not not-applicable" $((1 - $?))
n=$("$YC" --get '*' $APP | grep -c '"applicable":false')
[ "$n" -ge 3 ]
check "applicability: only $n controls not applicable" $?

# -- glossary --------------------------------------------------------------------
n=$("$YC" --get '*.term' $GLO | grep -c .)
[ "$n" -ge 15 ] && [ "$n" -le 25 ]
check "glossary: $n terms (want 15-25)" $?
for k in reading definition; do
	m=$("$YC" --get "*.$k" $GLO | grep -c .)
	[ "$m" -eq "$n" ]
	check "glossary: $m of $n terms have '$k'" $?
done

# -- pages: ids, types, fields ---------------------------------------------------
: > "$tmp/docids"
while read -r f; do
	id=$("$YC" --get id "$f")
	[ -n "$id" ]
	check "$f: no id" $?
	[ -n "$("$YC" --get title "$f")" ]
	check "$f: no title" $?
	echo "$id" >> "$tmp/docids"
	echo "$id $f" >> "$tmp/idfile"
done < "$tmp/pages"
sort "$tmp/docids" | uniq -d > "$tmp/out"
check "duplicate ids: $(cat "$tmp/out")" $([ -s "$tmp/out" ] && echo 1 || echo 0)

# type of a page: its 'type', else from the folder
ptype() {
	t=$("$YC" --get type "$1")
	if [ -n "$t" ]; then echo "$t"; return; fi
	case $1 in
	content/chapters/*) echo chapter ;; content/policies/*) echo policy ;;
	content/procedures/*) echo procedure ;; content/reports/*) echo report ;;
	content/incidents/*) echo incident ;; content/lessons/*) echo lesson ;;
	*) echo page ;;
	esac
}
# cited ids: control ids (catalog) or document ids
is_control() { grep -qxF "$1" "$tmp/ids"; }
is_doc() { grep -qxF "$1" "$tmp/docids"; }
controls_of() {	# list or "a, b" string, one per line
	"$YC" --get "$1" "$2" | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep .
}

counts_public=0 counts_conf=0 counts_draft=0
while read -r f; do
	t=$(ptype "$f")
	cls=$("$YC" --get classification "$f")
	st=$("$YC" --get status "$f")
	case $cls in public) counts_public=$((counts_public + 1)) ;;
	confidential) counts_conf=$((counts_conf + 1)) ;; esac
	[ "$st" = draft ] && counts_draft=$((counts_draft + 1))
	case ${cls:-internal} in public|internal|confidential) ok ;;
	*) bad "$f: classification '$cls'" ;; esac
	case ${st:-approved} in draft|approved|retired) ok ;;
	*) bad "$f: status '$st'" ;; esac
	for c in $(controls_of controls "$f"); do
		is_control "$c" || bad "$f: unknown control '$c'"
	done
	for k in implements related; do
		for d in $("$YC" --get "$k" "$f"); do
			is_doc "$d" || bad "$f: unknown id '$d' in '$k'"
		done
	done
	for v in $("$YC" --get version "$f") $("$YC" --get 'revisions.*.version' "$f"); do
		case $v in *[!0-9.]*|'') bad "$f: odd version '$v'" ;; esac
	done
	case $t in
	policy|procedure|chapter)
		for k in owner approver status version effective reviewed; do
			[ -n "$("$YC" --get $k "$f")" ]
			check "$f: $t without '$k'" $?
		done
		[ -n "$("$YC" --get review_every "$f")$("$YC" --get review_by "$f")" ]
		check "$f: no review_every or review_by" $?
		[ -n "$("$YC" --get controls "$f")" ]
		check "$f: $t without controls" $?
		;;
	esac
	case $t in
	procedure)
		n=$("$YC" --get 'revisions.*.version' "$f" | grep -c .)
		[ "$n" -ge 2 ] && [ "$n" -le 3 ]
		check "$f: $n revisions (want 2-3)" $?
		for p in $("$YC" --get implements "$f"); do
			[ "$(ptype "$(grep "^$p " "$tmp/idfile" | cut -d' ' -f2)")" = policy ]
			check "$f: implements '$p' which is not a policy" $?
		done
		[ -n "$("$YC" --get implements "$f")" ]
		check "$f: procedure implements nothing" $?
		;;
	chapter)
		[ -n "$("$YC" --get chapter "$f")" ]
		check "$f: chapter without 'chapter'" $?
		;;
	incident)
		"$YC" --get severity "$f" | grep -qxE 'low|medium|high|critical'
		check "$f: severity" $?
		"$YC" --get incident_status "$f" | grep -qxE 'open|closed'
		check "$f: incident_status" $?
		;;
	lesson)
		inc=$("$YC" --get incident "$f")
		[ -n "$inc" ] && is_doc "$inc"
		check "$f: incident '$inc' unknown" $?
		for a in $("$YC" --get affects "$f"); do
			is_control "$a" || is_doc "$a" || bad "$f: affects unknown '$a'"
		done
		n=$("$YC" --get 'actions.*.what' "$f" | grep -c .)
		[ "$n" -ge 1 ]
		check "$f: no actions" $?
		m=$("$YC" --get 'actions.*.status' "$f" | grep -cxE 'open|done')
		[ "$m" -eq "$n" ]
		check "$f: action status not open|done" $?
		m=$("$YC" --get 'actions.*.due' "$f" | grep -cxE '[0-9]{4}-[0-9]{2}-[0-9]{2}')
		[ "$m" -eq "$n" ]
		check "$f: action without a due date" $?
		;;
	report)
		[ -n "$("$YC" --get date "$f")" ] && [ -n "$("$YC" --get participants "$f")" ]
		check "$f: report without date/participants" $?
		;;
	esac

	# links in the body: relative .md files and id: targets
	dir=$(dirname "$f")
	grep -oE '\]\([^) ]+\)' "$f" | sed -E 's/^\]\(//; s/\)$//' | while read -r l; do
		case $l in
		id:*) is_doc "${l#id:}" || echo "$f: link to unknown id '${l#id:}'" ;;
		*://*|mailto:*|\#*) ;;
		*.md|*.md\#*) [ -f "$dir/${l%%#*}" ] || echo "$f: broken link '$l'" ;;
		esac
	done > "$tmp/out"
	check "$(cat "$tmp/out")" $([ -s "$tmp/out" ] && echo 1 || echo 0)

	# confidential marker: once in each confidential page, nowhere else
	n=$(grep -o CONFIDENTIAL-MARKER-7f3a "$f" | grep -c .)
	if [ "$cls" = confidential ]; then
		[ "$n" -eq 1 ]
		check "$f: confidential page has the marker $n times (want 1)" $?
	else
		[ "$n" -eq 0 ]
		check "$f: marker in a page that is not confidential" $?
	fi
done < "$tmp/pages"
[ $counts_public -ge 1 ] && [ $counts_conf -ge 1 ] && [ $counts_draft -ge 1 ]
check "need a public, a confidential and a draft page ($counts_public/$counts_conf/$counts_draft)" $?
! grep -rl CONFIDENTIAL-MARKER-7f3a site.yaml data catalogs > "$tmp/out"
check "marker outside content: $(cat "$tmp/out")" $?

# the example's shape: counts per type
for tc in policy:8 procedure:12 lesson:3 chapter:3; do
	n=0
	while read -r f; do [ "$(ptype "$f")" = "${tc%:*}" ] && n=$((n + 1)); done < "$tmp/pages"
	[ $n -ge "${tc#*:}" ]
	check "only $n documents of type ${tc%:*}" $?
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
