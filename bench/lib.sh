# Shared preamble of the timing scripts (bench/check.sh, bench/secrets-trivy.sh).
# Source it after `set -euo pipefail` with BENCH_TAG set to the log prefix.
# shellcheck shell=bash disable=SC2034

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE=${SHIPSHAPE_BENCH:-${HOME:?HOME is not set}/.cache/shipshape/bench}
FIXTURES=${SHIPSHAPE_FIXTURES:-$HOME/.cache/shipshape/fixtures}
RUNS=${RUNS:-3}
TIME=/usr/bin/time

log() { printf '[%s] %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() {
	printf '[%s] ERROR: %s\n' "${BENCH_TAG:-bench}" "$*" >&2
	exit 1
}

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
