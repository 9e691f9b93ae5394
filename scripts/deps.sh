#!/bin/sh
# Installs the Debian 12 packages tebiki needs that are missing.
#   sh scripts/deps.sh          to build tebiki and a site
#   sh scripts/deps.sh --test   also what the test suite needs
set -eu
pkgs="gcc make pkg-config libc6-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
libyaml-dev liblua5.4-dev libutf8proc-dev libmicrohttpd-dev"
if [ "${1:-}" = "--test" ]; then
	pkgs="$pkgs chromium fonts-noto-cjk fonts-ipaexfont-gothic poppler-utils valgrind curl"
	# Node.js may come from elsewhere than Debian (with its own npm):
	# only ask Debian for it when the commands are missing.
	command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
fi
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "tebiki: installing missing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
