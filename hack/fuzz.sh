#!/usr/bin/env bash
# Runs every Go fuzz test (func FuzzXxx in a _test.go file) for $FUZZTIME each (default 10s).
# `go test` already runs each fuzz test's seed corpus; this explores beyond it. A failure leaves
# the failing input under the package's testdata/fuzz/ for `go test` to replay.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
failed=0
while IFS= read -r file; do
	dir=./$(dirname "$file")
	while IFS= read -r name; do
		echo "== $dir $name ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir"; then
			failed=1
		fi
	done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file")
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v -e '^\./_output/' -e '^\./bin/' | sed 's|^\./||' | sort)
exit "$failed"
