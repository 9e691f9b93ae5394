#!/bin/sh
# Golden whole-site tests: tests/sites/<case>/ is a site (site.yaml,
# content/, ...) with either expected/ (the exact output tree) or
# expected.err (the exact diagnostics, exit status in expected.status,
# default 1).  Optional `args` holds extra build arguments.
# TEBIKI_UPDATE_GOLDEN=1 rewrites the expectations from the current output.
. "$ROOT/tests/lib.sh"
for dir in "$ROOT"/tests/sites/*/; do
	name=$(basename "$dir")
	out=$T_TMP/$name
	args=$(cat "$dir/args" 2>/dev/null || true)
	# --no-cache: nothing is written into the source tree (the cache
	# would go to the case's .tebiki-cache/), and every case is built
	# from scratch
	# shellcheck disable=SC2086
	(cd "$dir" && tk build -q -j 2 --no-cache --today 2025-06-01 -o "$out" $args) \
		>"$T_TMP/$name.stdout" 2>"$T_TMP/$name.err"
	status=$?
	if [ -f "$dir/expected.err" ] || [ -f "$dir/expected.status" ]; then
		want=$(cat "$dir/expected.status" 2>/dev/null || echo 1)
		if [ -n "${TEBIKI_UPDATE_GOLDEN:-}" ]; then
			cp "$T_TMP/$name.err" "$dir/expected.err"
			echo $status >"$dir/expected.status"
		fi
		t_eq "$name: exit status" "$status" "$want"
		if diff -u "$dir/expected.err" "$T_TMP/$name.err" >"$T_TMP/diff"; then
			t_ok "$name: diagnostics"
		else
			t_bad "$name: diagnostics" "$(head -n 40 "$T_TMP/diff")"
		fi
		if [ -e "$out" ]; then t_bad "$name: no output on failure"; else t_ok "$name: no output on failure"; fi
	else
		if [ -n "${TEBIKI_UPDATE_GOLDEN:-}" ]; then
			rm -rf "$dir/expected"
			cp -R "$out" "$dir/expected"
		fi
		t_eq "$name: exit status" "$status" 0
		if diff -ru "$dir/expected" "$out" >"$T_TMP/diff" 2>&1; then
			t_ok "$name: output tree"
		else
			t_bad "$name: output tree" "$(head -n 60 "$T_TMP/diff")"
		fi
	fi
done
t_done
