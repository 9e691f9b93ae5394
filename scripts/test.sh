#!/bin/sh
# One command for the whole test suite: installs what is missing, builds
# tebiki with AddressSanitizer + UndefinedBehaviorSanitizer and -Werror, and
# runs every test (unit, conformance, golden sites, browser).  The last line
# is "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh --test
make -s --no-print-directory check
