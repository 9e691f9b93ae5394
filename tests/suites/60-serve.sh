#!/bin/sh
# `tebiki serve`: HTTP serving, live reload, error overlay data, path
# safety, parallel clients, port in use, clean stop.  Every wait is bounded.
. "$ROOT/tests/lib.sh"
BASIC=$ROOT/tests/sites/basic

if ! command -v curl >/dev/null 2>&1; then
	echo "serve: curl is missing (sh scripts/deps.sh --test)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# 1 when it never did.
wait_for() {
	_n=$(($1 * 10)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}
get()    { curl -s --max-time 5 "$URL$1"; }
code()   { curl -s --max-time 5 --path-as-is -o /dev/null -w '%{http_code}' "$URL$1"; }
ctype()  { curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$URL$1"; }
status() { get /__tebiki/status; }
served_has() { get "$1" | grep -q "$2"; }
status_has() { status | grep -q "$1"; }
gen()    { status | sed -n 's/^{"gen":\([0-9]*\),.*/\1/p'; }
gen_above() { [ "$(gen)" -gt "$1" ] 2>/dev/null; }
file_has() { grep -q "$2" "$1"; }

# browser_checks OUTPUT STATUS NAME...: each NAME passed when a browser
# script (tests/serve/*.js) printed "ok - NAME" and was not timed out
browser_checks() {
	_out=$1; _st=$2; shift 2
	for _name in "$@"; do
		if [ "$_st" -ne 124 ] && printf '%s\n' "$_out" | grep -qxF "ok - $_name"; then
			t_ok "chromium: $_name"
		else
			t_bad "chromium: $_name" "$_out"
		fi
	done
}
# start_serve SITE LOG [OPTION...]: starts tebiki serve in the background on a free
# port; sets PID, PORT, URL; 1 when it did not come up within 10 s.
start_serve() {
	_site=$1; _log=$2; shift 2
	TMPDIR=$PRIV TEBIKI_SERVE_KEEPALIVE=1 $TEBIKI_VALGRIND "$TEBIKI" \
	    serve -s "$_site" --port 0 -j 2 "$@" 2>"$_log" &
	PID=$!
	wait_for 10 grep -q 'serving http://127.0.0.1:' "$_log" || return 1
	PORT=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$_log")
	URL=http://127.0.0.1:$PORT
}
# stop_serve SIGNAL: at most 3 s; sets STOP_RC (124 when it hung)
stop_serve() {
	kill -"$1" "$PID" 2>/dev/null
	_n=30
	while kill -0 "$PID" 2>/dev/null && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	if kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID"; wait "$PID" 2>/dev/null; STOP_RC=124
	else
		wait "$PID"; STOP_RC=$?
	fi
}

# --- CLI ---------------------------------------------------------------
out=$(tk serve --help 2>&1); t_eq "serve --help exits 0" $? 0
t_contains "serve --help shows usage" "$out" "usage: tebiki serve"
out=$(tk help serve 2>&1); t_contains "help serve" "$out" "--port"
out=$(tk help 2>&1); t_contains "serve in the command list" "$out" "serve "
tk serve --port 70000 -s "$BASIC" >/dev/null 2>&1; t_eq "bad --port exits 2" $? 2
tk serve --bind nohost -s "$BASIC" >/dev/null 2>&1; t_eq "bad --bind exits 2" $? 2
tk serve -s "$T_TMP/nonexistent" >/dev/null 2>&1; t_eq "missing source dir exits 2" $? 2
# a directory that is no site, or a file: one message, exit 2, nothing
# served (bounded: a serve that starts would wait for Ctrl-C)
mkdir -p "$T_TMP/nosite"; : > "$T_TMP/afile"
out=$(cd "$T_TMP/nosite" && TMPDIR=$T_TMP timeout 30 $TEBIKI_VALGRIND "$TEBIKI" serve --port 0 2>&1); st=$?
t_eq "serve in a directory that is no site exits 2" $st 2
t_eq "serve in a directory that is no site: the message" "$out" "tebiki: error: no site in '.' (no site.yaml and no content/ directory; use -s DIR or tebiki new site NAME)"
out=$(TMPDIR=$T_TMP timeout 30 $TEBIKI_VALGRIND "$TEBIKI" serve --port 0 -s "$T_TMP/afile" 2>&1); st=$?
t_eq "serve -s FILE exits 2" $st 2
t_eq "serve -s FILE: the message" "$out" "tebiki: error: source '$T_TMP/afile' is not a directory"

# --- start -------------------------------------------------------------
S=$T_TMP/site; cp -R "$BASIC" "$S"; rm -rf "$S/expected" "$S/public"
# a static page with the strict policy the themes use: the injected
# script must still run (it is a file, not inline code)
cat > "$S/content/csp.html" <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'">
<title>CSP</title></head>
<body><p>厳格なページ</p></body></html>
EOF
PRIV=$T_TMP/priv; mkdir -p "$PRIV"
LOG=$T_TMP/serve.log
if ! start_serve "$S" "$LOG"; then
	t_bad "serve starts" "$(cat "$LOG")"
	kill -KILL "$PID" 2>/dev/null
	t_done; exit 1
fi
t_ok "serve starts and names its URL"
OUT=$(ls -d "$PRIV"/tebiki-serve.* 2>/dev/null | head -n 1)
if [ -n "$OUT" ] && [ -f "$OUT/site/index.html" ]; then t_ok "built into a private dir under TMPDIR"; else t_bad "built into a private dir under TMPDIR" "$(ls -R "$PRIV")"; fi
t_eq "source dir has no public/" "$(ls "$S")" "$(ls "$BASIC" | grep -v expected)"

# --- from inside the site directory (no -s: the site is ".") ----------------
C=$T_TMP/cwd-site; cp -R "$BASIC" "$C"; rm -rf "$C/expected" "$C/public"
CLOG=$T_TMP/cwd.log
(cd "$C" && TMPDIR=$PRIV exec $TEBIKI_VALGRIND "$TEBIKI" serve --port 0 -j 2 2>"$CLOG") &
CPID=$!
if wait_for 10 grep -q 'serving http://127.0.0.1:' "$CLOG"; then
	t_ok "serve without -s starts in the site directory"
	CURL=http://127.0.0.1:$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$CLOG")
	t_contains "serve without -s serves the site" "$(curl -s --max-time 5 "$CURL/")" "ようこそ"
	cgen() { curl -s --max-time 5 "$CURL/__tebiki/status" | sed -n 's/^{"gen":\([0-9]*\),.*/\1/p'; }
	g0=$(cgen)
	printf '\n見直した行。\n' >> "$C/content/index.md"
	if wait_for 10 sh -c '[ "$(curl -s --max-time 5 "$1/__tebiki/status" | sed -n "s/^{\"gen\":\([0-9]*\),.*/\1/p")" -gt "$2" ]' sh "$CURL" "$g0" &&
	    curl -s --max-time 5 "$CURL/" | grep -q "見直した行"; then
		t_ok "serve without -s rebuilds after an edit"
	else
		t_bad "serve without -s rebuilds after an edit" "gen $g0 -> $(cgen); $(cat "$CLOG")"
	fi
else
	t_bad "serve without -s starts in the site directory" "$(cat "$CLOG")"
fi
kill -INT "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null

# --- files -------------------------------------------------------------
t_eq "GET / 200" "$(code /)" 200
t_eq "GET / is html" "$(ctype /)" "text/html; charset=utf-8"
home=$(get /)
t_contains "home content" "$home" "ようこそ"
t_contains "reload script injected before </body>" "$home" '<script src="/__tebiki/reload.js" data-gen="1"></script></body>'
t_eq "reload.js 200" "$(code /__tebiki/reload.js)" 200
t_eq "reload.js is javascript" "$(ctype /__tebiki/reload.js)" "text/javascript; charset=utf-8"
t_contains "reload.js opens the event stream" "$(get /__tebiki/reload.js)" 'new EventSource("/__tebiki/events")'
t_eq "svg 200" "$(code /img/logo.svg)" 200
t_eq "svg content type" "$(ctype /img/logo.svg)" "image/svg+xml"
t_eq "svg served unchanged" "$(get /img/logo.svg)" "$(cat "$S/content/img/logo.svg")"
t_lacks "svg not injected" "$(get /img/logo.svg)" "__tebiki"
head=$(curl -s --max-time 5 -I "$URL/img/logo.svg" | tr -d '\r')
t_contains "HEAD 200" "$head" "HTTP/1.1 200"
t_contains "HEAD content length" "$head" "Content-Length: $(wc -c < "$S/content/img/logo.svg" | tr -d ' ')"
t_contains "Cache-Control no-cache" "$head" "Cache-Control: no-cache"
hb=$(curl -s --max-time 5 -I -o /dev/null -w '%{size_download}' "$URL/img/logo.svg")
t_eq "HEAD has no body" "$hb" 0
etag=$(printf '%s\n' "$head" | sed -n 's/^ETag: //p')
if [ -n "$etag" ]; then t_ok "ETag sent"; else t_bad "ETag sent" "$head"; fi
c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/img/logo.svg")
t_eq "If-None-Match -> 304" "$c" 304
c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$URL/img/logo.svg")
t_eq "other ETag -> 200" "$c" 200
hetag=$(curl -s --max-time 5 -I "$URL/policies/backup.html" | tr -d '\r' | sed -n 's/^ETag: //p')
c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "If-None-Match: $hetag" "$URL/policies/backup.html")
t_eq "html If-None-Match -> 304" "$c" 304
t_eq "dir without slash -> 301" "$(code /policies)" 301
loc=$(curl -s --max-time 5 -o /dev/null -w '%{redirect_url}' "$URL/policies")
t_eq "redirect to dir/" "$loc" "$URL/policies/"
t_eq "dir/ -> index.html" "$(code /policies/)" 200
t_eq "//x/ does not redirect off-site" "$(curl -s --max-time 5 --path-as-is -o /dev/null -w '%{redirect_url}' "$URL//policies")" "$URL/policies/"
t_eq "missing -> 404" "$(code /nope.html)" 404
t_contains "plain 404 without 404.html" "$(get /nope.html)" "404 not found"
nc=$(curl -s --max-time 5 -o /dev/null -o /dev/null -w '%{num_connects} ' "$URL/" "$URL/img/logo.svg")
t_eq "keep-alive: two requests, one connection" "$nc" "1 0 "
c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST -d x=1 "$URL/")
t_eq "POST -> 405" "$c" 405
allow=$(curl -s --max-time 5 -I -X DELETE "$URL/" | tr -d '\r' | grep '^Allow:')
t_eq "405 names the methods" "$allow" "Allow: GET, HEAD"

# --- path safety ---------------------------------------------------------
# site.yaml is not reachable by any number of ..; a file right next to
# the served directory is one .. away
secret=$(head -n 1 "$S/site.yaml")
echo "next-door secret" > "$OUT/secret.txt"
for f in site.yaml secret.txt; do
	for u in "/../$f" "/%2e%2e/$f" "/..%2f$f" "/%2e%2e%2f$f" "/%2E%2E/$f" \
	    "/policies/../../$f" "/policies/%2e%2e/%2e%2e/$f" "/.%2e/$f" \
	    "/..%2F..%2F..%2F$f" "/$f%00.html" "/..\\$f"; do
		c=$(code "$u")
		body=$(curl -s --max-time 5 --path-as-is "$URL$u")
		case $c in 400|403|404) t_ok "traversal $u -> $c" ;; *) t_bad "traversal $u refused" "status $c" ;; esac
		t_lacks "traversal $u leaks nothing" "$body" "$secret"
		t_lacks "traversal $u leaks nothing next door" "$body" "next-door secret"
	done
done
ln -s "$S/site.yaml" "$OUT/site/evil.txt"
ln -s "$S" "$OUT/site/evildir"
ln -s index.html "$OUT/site/inside.html"
for u in /evil.txt /evildir/site.yaml /evildir/; do
	c=$(code "$u")
	case $c in 403|404) t_ok "symlink out $u -> $c" ;; *) t_bad "symlink out $u refused" "status $c" ;; esac
	t_lacks "symlink out $u leaks nothing" "$(get "$u")" "$secret"
done
t_eq "symlink inside the output is served" "$(code /inside.html)" 200

# --- 50 parallel requests -----------------------------------------------
pids=""
i=0
while [ $i -lt 50 ]; do
	case $((i % 3)) in 0) u=/ ;; 1) u=/policies/backup.html ;; *) u=/img/logo.svg ;; esac
	curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$URL$u" > "$T_TMP/par.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids
n=$(cat "$T_TMP"/par.* | grep -c '^200$')
t_eq "50 parallel requests all 200" "$n" 50

# --- live reload ----------------------------------------------------------
EV=$T_TMP/events.txt
curl -sN --max-time 20 "$URL/__tebiki/events" > "$EV" 2>/dev/null &
EVPID=$!
if wait_for 5 file_has "$EV" "event: hello"; then t_ok "event stream says hello"; else t_bad "event stream says hello" "$(cat "$EV")"; fi
t_contains "hello carries the state" "$(cat "$EV")" 'data: {"gen":1,"error":null}'
if wait_for 4 file_has "$EV" ": keepalive"; then t_ok "keepalive comment"; else t_bad "keepalive comment" "$(cat "$EV")"; fi
echo "編集した一文" >> "$S/content/notes/plain.md"
if wait_for 2 served_has /notes/plain.html "編集した一文"; then t_ok "edit served within 2 s"; else t_bad "edit served within 2 s" "$(cat "$LOG")"; fi
# the page comes first (a preview), then the build
wait_for 5 grep -q "rebuilt after a change to 'content/notes/plain.md'" "$LOG"
if wait_for 3 file_has "$EV" "event: reload"; then t_ok "reload event sent"; else t_bad "reload event sent" "$(cat "$EV")"; fi
# the preview and then the build: a generation of its own each
t_lacks "page carries a new generation" "$(get /notes/plain.html)" 'data-gen="1"'
c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "If-None-Match: $hetag" "$URL/policies/backup.html")
t_eq "old html ETag stale after rebuild" "$c" 200

# theme layouts and site.yaml are watched too, and the new build shows them
g=$(gen)
sed -i 's|<h1>{{page.title}}</h1>|<h1 class="edited">{{page.title}}</h1>|' "$S/themes/mini/layouts/page.mustache"
if wait_for 3 gen_above "$g"; then t_ok "layout edit rebuilds"; else t_bad "layout edit rebuilds" "$(tail -n 5 "$LOG")"; fi
# sed -i writes a temporary file and renames it over the layout: the
# layout, not the temporary file, names the build
if wait_for 3 grep -q "rebuilt after a change to 'themes/mini/layouts/page.mustache'" "$LOG"; then
	t_ok "a file renamed over another is named by the one it replaced"
else
	t_bad "a file renamed over another is named by the one it replaced" "$(grep 'rebuilt after' "$LOG" | tail -n 3)"
fi
t_contains "layout change named" "$(cat "$LOG")" "change to 'themes/mini/layouts/"
t_contains "layout edit shown" "$(get /policies/backup.html)" '<h1 class="edited">'
g=$(gen)
sed -i 's/^title: .*/title: 改題した手引き/' "$S/site.yaml"
if wait_for 3 gen_above "$g"; then t_ok "site.yaml edit rebuilds"; else t_bad "site.yaml edit rebuilds" "$(tail -n 5 "$LOG")"; fi
t_contains "site.yaml change named" "$(cat "$LOG")" "change to 'site.yaml'"
t_contains "site.yaml edit shown" "$(get /policies/backup.html)" "改題した手引き"
g=$(gen)
touch "$S/unrelated.txt"; mkdir -p "$S/notes"; echo x > "$S/notes/n.md"
sleep 0.6
t_eq "files outside the watched dirs ignored" "$(gen)" "$g"

# a new subdirectory is watched too
mkdir -p "$S/content/workshops/2025"
sleep 0.3
printf -- '---\ntitle: 演習\n---\n新しい演習の記録\n' > "$S/content/workshops/2025/drill.md"
if wait_for 3 served_has /workshops/2025/drill.html "新しい演習の記録"; then t_ok "page in a new subdirectory served"; else t_bad "page in a new subdirectory served" "$(tail -n 5 "$LOG")"; fi

# a built 404.html is used for missing files
printf -- '---\ntitle: 見つかりません\n---\nページが見つかりません\n' > "$S/content/404.md"
if wait_for 3 served_has /404.html "ページが見つかりません"; then
	t_eq "404 status with 404.html" "$(code /nope.html)" 404
	t_contains "built 404.html served" "$(get /nope.html)" "ページが見つかりません"
else
	t_bad "404.html built" "$(tail -n 5 "$LOG")"
fi

# --- build errors ---------------------------------------------------------
cp "$S/content/notes/plain.md" "$T_TMP/plain.bak"
{ printf -- '---\ntitle: [broken\n---\n'; cat "$T_TMP/plain.bak"; echo "壊れた後の文"; } > "$S/content/notes/plain.md"
if wait_for 3 file_has "$EV" "event: error"; then t_ok "error event sent"; else t_bad "error event sent" "$(cat "$EV")"; fi
t_contains "error event names file:line:col" "$(grep -A1 'event: error' "$EV")" 'content/notes/plain.md:3:1: error: invalid YAML'
t_contains "status shows the error" "$(status)" '"error":"content/notes/plain.md:3:1: error: invalid YAML'
t_contains "error printed in the terminal" "$(cat "$LOG")" "content/notes/plain.md:3:1: error: invalid YAML"
t_eq "old page still served" "$(code /notes/plain.html)" 200
page=$(get /notes/plain.html)
t_contains "old page content kept" "$page" "編集した一文"
t_lacks "broken version not served" "$page" "壊れた後の文"
# a page loaded now learns the error on connecting
late=$(curl -sN --max-time 1 "$URL/__tebiki/events" 2>/dev/null)
t_contains "late client gets the error" "$late" "event: error"
# what reload.js does with these events (a stand-in DOM under node)
if command -v node >/dev/null 2>&1; then
	get /__tebiki/reload.js > "$T_TMP/reload.js"
	data=$(grep -A1 'event: error' "$EV" | sed -n 's/^data: //p' | head -n 1)
	js=$(node "$ROOT/tests/serve/reload_check.js" "$T_TMP/reload.js" "$data" 2>&1); st=$?
	printf '%s\n' "$js" | grep -q '^ok - overlay shows the diagnostics$' && [ $st -eq 0 ] &&
	    t_ok "reload.js: overlay, reload, generations" || t_bad "reload.js: overlay, reload, generations" "$js"
else
	T_SKIP=$((${T_SKIP:-0} + 1)); echo "skip - node missing: reload.js not exercised"
fi
# the same in a real browser: overlay over the last good page, then the
# fix (done by the script) reloads the page without it
CHROMIUM=${TEBIKI_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if command -v node >/dev/null 2>&1 && [ -n "$CHROMIUM" ]; then
	js=$(TMPDIR=$T_TMP timeout 60 node "$ROOT/tests/serve/browser_check.js" "$CHROMIUM" \
	    "$URL/csp.html" "content/notes/plain.md:3:1: error: invalid YAML" \
	    "$T_TMP/plain.bak" "$S/content/notes/plain.md" 2>&1); st=$?
	browser_checks "$js" $st "browser shows the error overlay" \
	    "last good page under the overlay" \
	    "page reloads without the overlay after the fix"
else
	T_SKIP=$((${T_SKIP:-0} + 1)); echo "skip - node or chromium missing: no browser check"
fi
cp "$T_TMP/plain.bak" "$S/content/notes/plain.md"
if wait_for 3 status_has '"error":null'; then t_ok "fixed build recovers"; else t_bad "fixed build recovers" "$(status)"; fi
n=$(grep -c "event: reload" "$EV")
if [ "$n" -ge 2 ]; then t_ok "reload after the fix"; else t_bad "reload after the fix" "$(cat "$EV")"; fi
kill "$EVPID" 2>/dev/null; wait "$EVPID" 2>/dev/null

# --- port in use -----------------------------------------------------------
out=$(timeout 10 "$TEBIKI" serve -s "$S" --port "$PORT" 2>&1); st=$?
t_eq "port in use exits 2" $st 2
t_contains "port in use names the port" "$out" "port $PORT is already in use"

# --- stop ------------------------------------------------------------------
curl -sN --max-time 20 "$URL/__tebiki/events" > /dev/null 2>&1 &
EVPID=$!
sleep 0.3
stop_serve INT
t_eq "SIGINT stops with exit 0 within 3 s" "$STOP_RC" 0
t_eq "private dir removed" "$(ls "$PRIV")" ""
t_contains "stop announced" "$(cat "$LOG")" "interrupted, stopping"
kill "$EVPID" 2>/dev/null; wait "$EVPID" 2>/dev/null

# --- memory while waiting ------------------------------------------------------
# The build frees what it made; the server gives those pages back to the
# system before it waits (the 400-page site here: 16 of 18 MB resident after
# the build without that, well under half with it).  Not under valgrind
# (its own process) or AddressSanitizer (it keeps freed memory).
if [ -z "${TEBIKI_VALGRIND:-}" ] && [ -x "$TEBIKI_BUILD/tools/gencorpus" ] &&
    ! ldd "$TEBIKI" 2>/dev/null | grep -q libasan; then
	M=$T_TMP/mem; "$TEBIKI_BUILD/tools/gencorpus" 400 3 "$M" >/dev/null
	rm -rf "$M/hugo" "$M/hugo-site" "$M/bodies"
	if start_serve "$M" "$T_TMP/mem.log"; then
		rss=$(awk '/^VmRSS/ { print $2 }' /proc/$PID/status)
		hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$PID/status)
		if [ "$rss" -lt $((hwm / 2)) ]; then
			t_ok "the idle server holds less than half its build's peak"
		else
			t_bad "the idle server holds less than half its build's peak" "VmRSS $rss kB, VmHWM $hwm kB"
		fi
	else
		t_bad "serve starts on a generated site" "$(cat "$T_TMP/mem.log")"
	fi
	stop_serve INT
fi

# --- preview: a body edit shown before the build ------------------------------
# The example handbook (default filters: control-links collects); the build
# waits TEBIKI_SERVE_DEBOUNCE_MS after a change, so what is served in the
# meantime can only come from the previewer.
X=$T_TMP/example; mkdir -p "$X"
cp -R "$ROOT/site.yaml" "$ROOT/content" "$ROOT/data" "$X/"
printf '# 見出しが題名\n\n題名は最初の見出しから。\n' > "$X/content/pages/untitled.md"
DEB=3000; [ -n "${TEBIKI_VALGRIND:-}" ] && DEB=30000
XLOG=$T_TMP/preview.log
builds_above() { [ "$(grep -c 'rebuilt after' "$XLOG")" -gt "$1" ]; }
# previewed NAME PAGE TEXT: PAGE (output path without .html) shows TEXT
# before the build, and the build then writes the same bytes
previewed() {
	_n0=$(grep -c "rebuilt after" "$XLOG")
	if wait_for 5 served_has "/$2.html" "$3" && ! builds_above "$_n0"; then
		t_ok "$1: served before the build"
	else
		t_bad "$1: served before the build" "$(tail -n 5 "$XLOG")"
	fi
	cp "$XOUT/$2.html" "$T_TMP/previewed.html"
	wait_for $((DEB / 1000 + 30)) builds_above "$_n0"
	if cmp -s "$XOUT/$2.html" "$T_TMP/previewed.html"; then
		t_ok "$1: the build's page is the preview"
	else
		t_bad "$1: the build's page is the preview" "$(diff "$T_TMP/previewed.html" "$XOUT/$2.html" | head -n 20)"
	fi
}
reloads_at_least() { [ "$(grep -c 'event: reload' "$EV2")" -ge "$1" ]; }
export TEBIKI_SERVE_DEBOUNCE_MS=$DEB
# built before: the server's first build starts from that output
tk build -s "$X" -q >/dev/null 2>&1
if start_serve "$X" "$XLOG"; then
	t_ok "serve starts on the example handbook"
	XOUT=$(ls -d "$PRIV"/tebiki-serve.* | head -n 1)/site
	t_eq "first build: the site's own output linked, not copied" \
	    "$(stat -c %i "$XOUT/policies/backup.html")" "$(stat -c %i "$X/public/policies/backup.html")"
	EV2=$T_TMP/events2.txt
	curl -sN --max-time 900 "$URL/__tebiki/events" > "$EV2" 2>/dev/null &
	EV2PID=$!
	wait_for 5 file_has "$EV2" "event: hello"
	g=$(gen)
	printf '\nプレビューで見える段落。\n' >> "$X/content/policies/backup.md"
	if wait_for 5 served_has /policies/backup.html "プレビューで見える段落"; then
		t_ok "body edit served before the build"
	else
		t_bad "body edit served before the build" "$(tail -n 5 "$XLOG")"
	fi
	t_contains "preview logged" "$(cat "$XLOG")" "previewed 'policies/backup.html'"
	t_lacks "the build has not run yet" "$(cat "$XLOG")" "rebuilt after"
	t_lacks "print.html still the last build's" "$(get /print.html)" "プレビューで見える段落"
	t_eq "preview is a generation" "$(gen)" $((g + 1))
	if wait_for 3 file_has "$EV2" '"paths":\["policies/backup.html"\]'; then
		t_ok "preview reloads only its page"
	else
		t_bad "preview reloads only its page" "$(cat "$EV2")"
	fi
	bad=$(cd "$XOUT" && sha256sum -c --quiet .tebiki-manifest 2>&1)
	t_eq "manifest true after the preview" "$bad" ""
	cp "$XOUT/policies/backup.html" "$T_TMP/previewed.html"
	if wait_for $((DEB / 1000 + 30)) grep -q "rebuilt after" "$XLOG"; then
		t_ok "the build follows"
	else
		t_bad "the build follows" "$(tail -n 5 "$XLOG")"
	fi
	if cmp -s "$XOUT/policies/backup.html" "$T_TMP/previewed.html"; then
		t_ok "preview is byte for byte the build's page"
	else
		t_bad "preview is byte for byte the build's page" "$(diff "$T_TMP/previewed.html" "$XOUT/policies/backup.html" | head -n 20)"
	fi
	t_contains "print.html has it after the build" "$(get /print.html)" "プレビューで見える段落"
	wait_for 3 reloads_at_least 2
	last=$(grep '^data: {"gen":' "$EV2" | tail -n 1)
	t_contains "the build's reload names pages" "$last" '"paths":['
	t_lacks "... not the page the preview showed" "$last" '"policies/backup.html"'
	t_contains "... but the pages it changed" "$last" '"print.html"'

	# a save that changes nothing: the build runs, no page reloads
	n0=$(grep -c "rebuilt after" "$XLOG")
	r0=$(grep -c 'event: reload' "$EV2")
	touch "$X/content/policies/backup.md"
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	wait_for 3 reloads_at_least $((r0 + 1))
	t_contains "nothing changed: the reload names no page" "$(grep '^data: {"gen":' "$EV2" | tail -n 1)" '"paths":[]}'
	t_lacks "nothing changed: nothing previewed" "$(tail -n 2 "$XLOG")" "previewed"
	# edits the previewer cannot show wait for the build
	n0=$(grep -c "rebuilt after" "$XLOG")
	sed -i 's/^title: \(.*\)$/title: \1（改）/' "$X/content/policies/backup.md"
	if wait_for 5 grep -q "no preview of 'content/policies/backup.md': its front matter changed" "$XLOG"; then
		t_ok "front matter edit: no preview"
	else
		t_bad "front matter edit: no preview" "$(tail -n 5 "$XLOG")"
	fi
	t_lacks "front matter edit not served before the build" "$(get /policies/backup.html)" "（改）"
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	t_contains "front matter edit served by the build" "$(get /policies/backup.html)" "（改）"
	# the next build made a new previewer
	printf '\n二度目のプレビュー。\n' >> "$X/content/policies/backup.md"
	previewed "after a refused change, the next build's previewer" policies/backup "二度目のプレビュー"
	# a new heading is the page's own (its table of contents, an anchor
	# its links may use)
	printf '\n## 新しい見出し\n\n[新しい節へ](#新しい見出し)\n' >> "$X/content/policies/backup.md"
	previewed "heading edit" policies/backup "新しい見出し"
	# a title taken from the first h1 is seen by other pages
	printf '\n本文だけの変更。\n' >> "$X/content/pages/untitled.md"
	previewed "body edit of a page titled by its h1" pages/untitled "本文だけの変更"
	sed -i 's/^# 見出しが題名$/# 題名を変えた見出し/' "$X/content/pages/untitled.md"
	wait_for 5 grep -q "no preview of 'content/pages/untitled.md': its title (its first heading) changed" "$XLOG" &&
	    t_ok "h1 title edit: no preview" || t_bad "h1 title edit: no preview" "$(tail -n 5 "$XLOG")"
	n0=$(grep -c "rebuilt after" "$XLOG")
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	t_contains "h1 title edit served by the build" "$(get /pages/untitled.html)" "題名を変えた見出し"
	printf '\n管理策 5.1 もあわせて確認する。\n' >> "$X/content/policies/backup.md"
	wait_for 5 grep -q "what the filters collect from it changed" "$XLOG" &&
	    t_ok "new control mention: no preview" || t_bad "new control mention: no preview" "$(tail -n 5 "$XLOG")"
	n0=$(grep -c "rebuilt after" "$XLOG")
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	printf -- '---\ntitle: 新しいメモ\n---\n新しいページ。\n' > "$X/content/pages/new-note.md"
	wait_for 5 grep -q "no preview of 'content/pages/new-note.md': not a page of the last build" "$XLOG" &&
	    t_ok "new page: no preview" || t_bad "new page: no preview" "$(tail -n 5 "$XLOG")"
	n0=$(grep -c "rebuilt after" "$XLOG")
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	t_contains "new page served by the build" "$(get /pages/new-note.html)" "新しいページ。"
	rm "$X/content/pages/new-note.md"
	wait_for 5 grep -q "no preview of 'content/pages/new-note.md': the file cannot be read" "$XLOG" &&
	    t_ok "removed page: no preview" || t_bad "removed page: no preview" "$(tail -n 5 "$XLOG")"
	n0=$(grep -c "rebuilt after" "$XLOG")
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	# after builds over directories a preview wrote into, the output is
	# what a clean build makes
	printf '\n最後の追記。\n' >> "$X/content/policies/malware.md"
	wait_for 5 served_has /policies/malware.html "最後の追記"
	n0=$(grep -c "rebuilt after" "$XLOG")
	wait_for $((DEB / 1000 + 30)) builds_above "$n0"
	t_lacks "every build succeeded" "$(cat "$XLOG")" "the build failed"
	bad=$(cd "$X/public" && sha256sum -c --quiet .tebiki-manifest 2>&1)
	t_eq "the site's own output untouched by the server's builds" "$bad" ""
	tk build -s "$X" -o "$T_TMP/clean" --no-cache -q >/dev/null 2>&1
	d=$(diff -r "$XOUT" "$T_TMP/clean" 2>&1 | head -n 20)
	t_eq "served output = a clean build" "$d" ""
	# in a real browser: the edited page reloads (the preview), another
	# open page does not, and its search box takes the new index
	if command -v node >/dev/null 2>&1 && [ -n "$CHROMIUM" ]; then
		js=$(TMPDIR=$T_TMP timeout $((DEB / 1000 + 120)) node "$ROOT/tests/serve/browser_search.js" \
		    "$CHROMIUM" "$URL/policies/backup.html" "$URL/policies/malware.html" \
		    "$X/content/policies/malware.md" zqxlivecheck $((DEB / 1000 + 60)) 2>&1); st=$?
		browser_checks "$js" $st "the word is not in the index yet" \
		    "the edited page reloads with the edit" \
		    "another open page's search finds the edit after the build" \
		    "... without reloading that page"
	else
		T_SKIP=$((${T_SKIP:-0} + 1)); echo "skip - node or chromium missing: no browser check of the preview"
	fi
	kill "$EV2PID" 2>/dev/null; wait "$EV2PID" 2>/dev/null
	stop_serve TERM; t_eq "preview server stops" "$STOP_RC" 0
	sleep 0.3
	t_eq "previewer gone with the server" "$(ps -eo args | grep -c "[t]ebiki serve -s $X")" 0
else
	t_bad "serve starts on the example handbook" "$(cat "$XLOG")"
	kill -KILL "$PID" 2>/dev/null
fi
# --no-preview: the page waits for the build
if start_serve "$X" "$XLOG.2" --no-preview; then
	printf '\nプレビューなし。\n' >> "$X/content/policies/backup.md"
	sleep 1.5
	t_lacks "--no-preview: nothing before the build" "$(get /policies/backup.html)" "プレビューなし"
	t_lacks "--no-preview: no previewer" "$(cat "$XLOG.2")" "preview"
	stop_serve TERM
else
	t_bad "serve --no-preview starts" "$(cat "$XLOG.2")"
	kill -KILL "$PID" 2>/dev/null
fi
unset TEBIKI_SERVE_DEBOUNCE_MS

# --- a site broken from the start -------------------------------------------
B=$T_TMP/broken; cp -R "$BASIC" "$B"; rm -rf "$B/expected"
cp "$B/content/index.md" "$T_TMP/index.bak"
printf -- '---\ntitle: [broken\n---\n' > "$B/content/index.md"
if start_serve "$B" "$T_TMP/broken.log"; then
	t_ok "serve starts on a broken site"
	t_eq "error page while nothing was built" "$(code /)" 500
	t_contains "error page names the file" "$(get /)" "content/index.md:3:1: error: invalid YAML"
	t_contains "error page has the reload script" "$(get /)" "/__tebiki/reload.js"
	cp "$T_TMP/index.bak" "$B/content/index.md"
	if wait_for 3 status_has '"gen":1,"error":null'; then t_ok "first good build after the fix"; else t_bad "first good build after the fix" "$(status)"; fi
	t_eq "site served after the fix" "$(code /)" 200
	stop_serve TERM; t_eq "SIGTERM exits 0" "$STOP_RC" 0
else
	t_bad "serve starts on a broken site" "$(cat "$T_TMP/broken.log")"
	kill -KILL "$PID" 2>/dev/null
fi
t_eq "private dirs removed" "$(ls "$PRIV")" ""
if [ "${T_SKIP:-0}" -gt 0 ]; then
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]; exit
fi
t_done
