#!/bin/sh
# The default theme: renders the sample contexts of tests/theme/ with
# render_theme, checks the theme statically (no external URL, no inline
# script or style), checks that a site layouts directory overrides one
# partial and one block, then runs tests/browser/theme.mjs (Chromium,
# axe-core, html-validate) on the rendered pages.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${TEBIKI_BUILD:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
THEME=$ROOT/themes/default
RT=$B/tools/render_theme
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ ! -x "$RT" ]; then
	fail "missing $RT (run make tools)"
	finish
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/site

# 1. Render every sample context at the path its page.url names.
pages=
for spec in home:index.html search:search.html 404:404.html \
    policy:policies/backup.html procedure:procedures/restore.html \
    chapter:chapters/02.html incident:incidents/2024-03.html \
    list:policies/index.html; do
	name=${spec%%:*} rel=${spec#*:}
	if "$RT" -m "$ROOT/tests/theme/site.yaml" "$THEME" \
	    "$ROOT/tests/theme/$name.yaml" "$out/$rel" 2>"$tmp/err"; then
		ok "render $name -> $rel"
		pages="$pages $rel"
	else
		fail "render $name"
		cat "$tmp/err"
	fi
done
if [ -f "$out/assets/style.css" ]; then ok "assets copied"; else fail "assets copied"; fi

# 2. Static checks of the theme files.
layouts=$(find "$THEME/layouts" -name '*.mustache' | sort)
for want in base page page-chapter page-policy page-procedure page-report \
    page-incident page-lesson list home search 404 partials/header \
    partials/nav partials/breadcrumbs partials/toc partials/doccontrol \
    partials/revisions partials/controls partials/referenced-by \
    partials/banners partials/footer partials/search-box; do
	[ -f "$THEME/layouts/$want.mustache" ] || fail "layout $want missing"
done
ok "every required layout exists"
if grep -nE '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}' $layouts "$THEME/assets/"*; then
	fail "no external URL in the theme"
else
	ok "no external URL in the theme"
fi
if grep -nE '<script[^>]*>[^<]|<script>|<style|style="|[[:space:]]on[a-z]+="' $layouts; then
	fail "no inline script, style or event handler"
else
	ok "no inline script, style or event handler"
fi
if grep -q "Content-Security-Policy" "$THEME/layouts/base.mustache" &&
    grep -q "script-src 'self'" "$THEME/layouts/base.mustache"; then
	ok "base has the CSP meta"
else
	fail "base has the CSP meta"
fi
for f in ja en; do
	for k in types: types_plural: status: classification: skip_to_content: \
	    toc: controls: referenced_by: revisions: draft: review_overdue: \
	    not_found_title: search_placeholder:; do
		grep -q "^$k" "$THEME/i18n/$f.yaml" || fail "i18n/$f.yaml lacks $k"
	done
done
if [ "$(grep -c '^[a-z_]*:' "$THEME/i18n/ja.yaml")" = "$(grep -c '^[a-z_]*:' "$THEME/i18n/en.yaml")" ]; then
	ok "i18n files have the same keys"
else
	fail "i18n files have the same keys"
fi

# 3. A site layouts directory overrides one partial and one block.
mkdir -p "$tmp/override/partials"
printf '<footer class="site-footer"><p>OVERRIDE-FOOTER {{site.title}}</p></footer>\n' \
    >"$tmp/override/partials/footer.mustache"
cat >"$tmp/override/page-policy.mustache" <<'T'
{{<page}}
{{$bodyclass}}layout-page layout-policy custom-policy{{/bodyclass}}
{{$after_content}}
<p class="override-block">OVERRIDE-BLOCK {{page.title}}</p>
{{/after_content}}
{{/page}}
T
if "$RT" -s "$tmp/override" -m "$ROOT/tests/theme/site.yaml" "$THEME" \
    "$ROOT/tests/theme/policy.yaml" "$tmp/ov/p.html" 2>"$tmp/err"; then
	h=$tmp/ov/p.html
	if grep -q "OVERRIDE-FOOTER 株式会社サンプル" "$h" && ! grep -q "site-footer-gen" "$h"; then
		ok "site partial replaces the theme's footer"
	else
		fail "site partial replaces the theme's footer"
	fi
	if grep -q "OVERRIDE-BLOCK バックアップ規程" "$h" && ! grep -q 'class="revisions"' "$h" &&
	    grep -q 'class="layout-page layout-policy custom-policy"' "$h" &&
	    grep -q 'class="doccontrol"' "$h"; then
		ok "site layout overrides blocks and keeps the rest"
	else
		fail "site layout overrides blocks and keeps the rest"
	fi
else
	fail "render with override"
	cat "$tmp/err"
fi

# 4. The browser.
BR=$ROOT/tests/browser
if ! command -v node >/dev/null 2>&1; then
	fail "node is missing"
	finish
fi
if [ ! -d "$BR/node_modules/playwright-core" ] || [ ! -d "$BR/node_modules/html-validate" ] ||
    [ ! -d "$BR/node_modules/axe-core" ]; then
	(cd "$BR" && npm ci --no-audit --no-fund >"$tmp/npm" 2>&1) ||
	    (cd "$BR" && npm install --no-audit --no-fund >"$tmp/npm" 2>&1) || {
		fail "npm install in tests/browser"
		tail -20 "$tmp/npm"
		finish
	}
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	fail "chromium is missing (apt-get install chromium, or set CHROMIUM)"
	finish
fi
node "$BR/theme.mjs" "$out" $pages >"$tmp/br" 2>&1
rc=$?
cat "$tmp/br"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/br" | tail -n 1)
if [ -z "$line" ]; then
	fail "theme.mjs gave no result (exit $rc)"
else
	p=${line%% passed*}
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	passed=$((passed + p)) failed=$((failed + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail "theme.mjs exit $rc"
fi
finish
