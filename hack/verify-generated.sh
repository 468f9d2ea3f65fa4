#!/usr/bin/env bash
# Checks that the generated Go code under proto/ is exactly what `make generate` makes: the
# .proto files are copied to a temporary directory, the code is regenerated there with the
# pinned tools (on PATH; $BUF names buf), and the two trees are diffed. Stale, missing and
# hand-edited generated files all fail the check.
set -euo pipefail
cd "$(dirname "$0")/.."

buf=${BUF:-buf}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp buf.yaml buf.gen.yaml "$tmp/"
[[ -f buf.lock ]] && cp buf.lock "$tmp/"
cp -R proto "$tmp/proto"
find "$tmp/proto" \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -delete
(cd "$tmp" && "$buf" generate)

if ! diff -ru proto "$tmp/proto"; then
	echo >&2
	echo "The generated code under proto/ is out of date: run 'make generate' and commit the result." >&2
	exit 1
fi
echo "generated code is up to date"
