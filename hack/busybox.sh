#!/usr/bin/env bash
# Writes Debian's static busybox (package busybox-static) to $1, taking it from, in order:
#   1. $BUSYBOX, a path to a static busybox binary;
#   2. the installed busybox-static package (`apt-get install busybox-static`);
#   3. the package downloaded with `apt-get download busybox-static` (no root needed; the apt
#      lists must be current: `apt-get update`), cached under _output/cache/busybox-static/.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=${1:?usage: hack/busybox.sh DEST}
src=${BUSYBOX:-}

if [[ -z $src ]] && dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	src=$(dpkg-query -L busybox-static | grep -E '/bin/busybox$' | head -n1)
fi
if [[ -z $src ]]; then
	cache=_output/cache/busybox-static
	if [[ ! -x $cache/root/bin/busybox ]]; then
		rm -rf "$cache"
		mkdir -p "$cache/root"
		echo "busybox: apt-get download busybox-static" >&2
		if ! (cd "$cache" && apt-get download busybox-static >&2); then
			echo "busybox: cannot download busybox-static: install it (apt-get install busybox-static)," \
				"run apt-get update, or set BUSYBOX to a static busybox binary" >&2
			exit 1
		fi
		dpkg-deb -x "$cache"/busybox-static_*.deb "$cache/root"
	fi
	src=$cache/root/bin/busybox
fi

if [[ ! -x $src ]]; then
	echo "busybox: $src is not an executable" >&2
	exit 1
fi
if ldd "$src" >/dev/null 2>&1; then
	echo "busybox: $src is dynamically linked; the shell image is FROM scratch and needs busybox-static" >&2
	exit 1
fi
install -m 0755 "$src" "$dest"
