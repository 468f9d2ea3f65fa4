#!/usr/bin/env bash
# Entry point of `make bench`: runs Berth's benchmarks and writes their report to $1
# (default BENCHMARKS.md).
#
# The contract with bench/: ./bench is a main package. It runs every benchmark (each next to
# the raw limit measured in the same run: raw etcd puts and gets, raw `docker run`) and writes a
# Markdown report to the file named by its -o flag. $BENCH_FLAGS are passed on to it (e.g.
# BENCH_FLAGS='-run create' to run a subset, if bench supports it). The binaries in bin/ are
# built before it runs, for benchmarks that start real processes.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-BENCHMARKS.md}
if ! compgen -G 'bench/*.go' >/dev/null; then
	echo "bench: no main package in ./bench yet" >&2
	exit 1
fi
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
go run ./bench -o "$out" ${BENCH_FLAGS:-}
echo "wrote $out"
