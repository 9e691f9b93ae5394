#!/bin/sh
# The official Mustache spec against the template engine (every test of
# comments, delimiters, interpolation, inverted, partials, sections,
# ~inheritance and ~dynamic-names; ~lambdas is not supported).
set -u
B=${TEBIKI_BUILD:-build}
SPEC=${TEBIKI_MUSTACHE_SPEC:-${TEBIKI_SHARED:-$ROOT/../shared}/conformance/mustache-spec}
if [ ! -x "$B/tools/mustache_spec" ]; then
	echo "missing $B/tools/mustache_spec (run make tools)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -d "$SPEC" ]; then
	echo "mustache spec not found at '$SPEC' (set TEBIKI_MUSTACHE_SPEC or TEBIKI_SHARED)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$B/tools/mustache_spec" "$SPEC"
