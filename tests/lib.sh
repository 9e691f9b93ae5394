# Shared helpers for the shell suites (sourced).  Each suite calls ok/bad
# through t_*; `t_done` prints "N passed, N failed" and sets the exit status.
T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tebiki-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
TEBIKI=${TEBIKI:-$ROOT/build/tebiki}
# tebiki run with the valgrind prefix when asked
tk() { $TEBIKI_VALGRIND "$TEBIKI" "$@"; }

t_ok()  { T_PASS=$((T_PASS + 1)); [ -n "${TEBIKI_VERBOSE:-}" ] && echo "ok - $1"; return 0; }
t_bad() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /'; return 0; }

# t_eq NAME GOT WANT
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else
		t_bad "$1" "got:  $2
want: $3"; fi
}
# t_contains NAME HAYSTACK NEEDLE
t_contains() {
	case $2 in *"$3"*) t_ok "$1" ;; *) t_bad "$1" "missing: $3
in: $2" ;; esac
}
t_lacks() {
	case $2 in *"$3"*) t_bad "$1" "unexpected: $3" ;; *) t_ok "$1" ;; esac
}
# t_file NAME PATH
t_file() { if [ -f "$2" ]; then t_ok "$1"; else t_bad "$1" "no file $2"; fi; }

t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
