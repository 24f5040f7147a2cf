# Shared preamble of the timing scripts (bench/check.sh, bench/secrets-trivy.sh, bench/recheck.sh).
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

# Timing helpers of recheck.sh and secrets-trivy.sh (check.sh prints with
# its own precision and redefines the formatters). measure needs $WORK.
# measure OUT ERR CMD...: sets M_RC, M_MS (wall), M_CPU (user+sys ms), M_RSS (KiB).
measure() {
	local out=$1 err=$2
	shift 2
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	set +e
	"$TIME" -v -o "$WORK/time.txt" "$@" >"$out" 2>"$err"
	M_RC=$?
	set -e
	t1=${EPOCHREALTIME/[.,]/}
	M_MS=$(((t1 - t0) / 1000))
	M_RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
	M_CPU=$(awk -F': ' '/User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 } END { printf "%d", (u + s) * 1000 }' "$WORK/time.txt")
	[[ -n $M_RSS ]] || M_RSS=0
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
