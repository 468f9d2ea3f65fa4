#!/usr/bin/env bash
# Builds Berth's images locally with `docker build`, pulling nothing: every Dockerfile is
# FROM scratch and its context is assembled here under _output/images/<name>/ from
# images/<name>/ (Dockerfile, static files under rootfs/) plus what the image runs:
#   berth:latest          bin/berth            as /berth
#   berth-pause:latest    bin/berth-pause      as /pause
#   berth-testapp:latest  bin/berth-testapp    as /testapp
#   berth-shell:latest    Debian's static busybox (hack/busybox.sh) as /bin/busybox, with a
#                         symlink for every applet
# Run `make build` first (`make images` does). Arguments name a subset of the images to build.
#
# With --if-docker (what `make e2e` uses) a machine without a reachable Docker Engine builds
# nothing and succeeds with a warning, so that the e2e tests that need no Docker still run and
# those that do skip and say why -- unless CI is set, where a missing Docker is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --if-docker ]]; then
	shift
	if ! out=$(docker version --format '{{.Server.Version}}' 2>&1); then
		case ${CI:-} in
		"" | 0 | false | FALSE)
			echo "images: no Docker Engine ($out); not building the images, the e2e tests that need them will skip" >&2
			exit 0
			;;
		esac
		echo "images: no Docker Engine under CI: $out" >&2
		exit 1
	fi
fi

all=(berth berth-pause berth-testapp berth-shell)
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=("${all[@]}")

# context NAME: a fresh build context for NAME holding images/NAME/ and the empty directories
# of a root filesystem; prints its path.
context() {
	local ctx=_output/images/$1
	rm -rf "$ctx"
	mkdir -p "$ctx"
	cp -R "images/$1/." "$ctx/"
	mkdir -p "$ctx/rootfs/tmp"
	chmod 1777 "$ctx/rootfs/tmp"
	echo "$ctx"
}

# binary SRC DEST: copies a binary built by `make build`, which must be static.
binary() {
	if [[ ! -x $1 ]]; then
		echo "images: $1 is missing: run 'make build' first" >&2
		exit 1
	fi
	if ldd "$1" >/dev/null 2>&1; then
		echo "images: $1 is dynamically linked; images are FROM scratch and need a static binary" >&2
		exit 1
	fi
	install -m 0755 "$1" "$2"
}

for name in "${names[@]}"; do
	start=$SECONDS
	case $name in
	berth)
		ctx=$(context berth)
		mkdir -p "$ctx/rootfs/var/lib/berth"
		binary bin/berth "$ctx/rootfs/berth"
		;;
	berth-pause)
		ctx=$(context berth-pause)
		binary bin/berth-pause "$ctx/rootfs/pause"
		;;
	berth-testapp)
		ctx=$(context berth-testapp)
		binary bin/berth-testapp "$ctx/rootfs/testapp"
		;;
	berth-shell)
		ctx=$(context berth-shell)
		mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/root"
		hack/busybox.sh "$ctx/rootfs/bin/busybox"
		# One symlink per applet, where busybox says it lives (bin/sh, usr/bin/wget, ...).
		while IFS= read -r applet; do
			[[ $applet == bin/busybox ]] && continue
			mkdir -p "$ctx/rootfs/$(dirname "$applet")"
			ln -sf /bin/busybox "$ctx/rootfs/$applet"
		done < <("$ctx/rootfs/bin/busybox" --list-full)
		;;
	*)
		echo "images: unknown image $name (known: ${all[*]})" >&2
		exit 1
		;;
	esac
	echo "== docker build -t $name:latest $ctx"
	# Quiet unless it fails: the legacy builder warns on every build that it is deprecated.
	if ! docker build -t "$name:latest" "$ctx" >"$ctx.log" 2>&1; then
		cat "$ctx.log" >&2
		echo "images: docker build of $name failed" >&2
		exit 1
	fi
	echo "   built $name:latest in $((SECONDS - start))s"
done
