#!/bin/sh
# One command for a fresh Debian 12 machine: installs what is missing, builds
# tebiki and the example handbook into public/, and says where to open it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
make -s -j"$(nproc)"
./tebiki build
echo "Open $(pwd)/public/index.html in a browser (it works straight from disk)."
