#!/usr/bin/env bash
# The facts cache, side by side with Trivy's layer cache: a cold and a
# warm (re-)check of the same docker-archive by each tool, in one run.
#
#   bench/large-image.sh && bench/recheck.sh          # the ~1 GB image
#   bench/recheck.sh ARCHIVE.tar...                   # only these docker-archives
#
# For each image, after one warm-up read (page cache), RUNS times (default 3),
# interleaved:
#   shipshape cold   `shipshape check --format json` (SBOM, vulnerabilities,
#                    secrets, configuration: the full check) with a fresh, empty
#                    SHIPSHAPE_CACHE_DIR
#   shipshape warm   the same command again on the same cache directory (the
#                    layers' facts come from the cache, keyed by content)
#   trivy cold       `trivy image --scanners secret --input FILE` with a fresh
#                    --cache-dir (secret scan only: Trivy does less work)
#   trivy warm       the same command again on the same cache directory
# The table gives the median wall time, the median CPU time and the peak RSS,
# and the ratios the issue asks for: warm/cold of shipshape, shipshape warm vs
# Trivy warm, shipshape cold (full check) vs Trivy cold (secrets alone).
#
# Environment: SHIPSHAPE_BENCH (default ~/.cache/shipshape/bench), RUNS, TRIVY,
# SHIPSHAPE_VULNDB_DIR (the advisory database shipshape matches against; the
# default one when unset).
set -euo pipefail

BENCH_TAG=recheck
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TRIVY_VERSION=v0.74.0
"$TIME" -v true >/dev/null 2>&1 || die "GNU time is needed at $TIME (apt-get install time)"
TRIVY=${TRIVY:-$(command -v trivy || true)}
[[ -n $TRIVY ]] || TRIVY=$HOME/.cache/shipshape/peers/bin/trivy
[[ -x $TRIVY ]] || die "no trivy: GOEXPERIMENT=jsonv2 GOBIN=\$HOME/.cache/shipshape/peers/bin go install github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-recheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building shipshape"
(cd "$REPO_ROOT" && go build -o "$WORK/shipshape" ./cmd/shipshape) || die "go build failed"

IMAGES=("$@")
if ((${#IMAGES[@]} == 0)); then
	[[ -s $CACHE/large.tar ]] || die "no $CACHE/large.tar: run bench/large-image.sh"
	IMAGES=("$CACHE/large.tar")
fi


ss() { # ss CACHE_DIR FILE
	measure "$WORK/out" "$WORK/err" env SHIPSHAPE_CACHE_DIR="$1" "$WORK/shipshape" check --offline --format json -o "$WORK/ss.json" "docker-archive:$2"
	((M_RC <= 1)) || die "shipshape check failed on $2 (exit $M_RC): $(cat "$WORK/err")"
}
tv() { # tv CACHE_DIR FILE
	measure "$WORK/out" "$WORK/err" "$TRIVY" image --quiet --cache-dir "$1" --skip-db-update --skip-java-db-update --offline-scan \
		--scanners secret --format json --output "$WORK/trivy.json" --input "$2"
	((M_RC == 0)) || die "trivy failed on $2 (exit $M_RC): $(cat "$WORK/err")"
}

echo "| image | run | wall (median) | CPU (median) | peak RSS |"
echo "|---|---|---:|---:|---:|"
for f in "${IMAGES[@]}"; do
	name=$(basename "$f" .tar)
	log "$name: warming up"
	cat "$f" >/dev/null
	declare -A W=() C=() R=()
	for ((r = 1; r <= RUNS; r++)); do
		log "$name: run $r of $RUNS"
		rm -rf "$WORK/ssc" "$WORK/tvc"
		ss "$WORK/ssc" "$f"; W[ssc]+=" $M_MS" C[ssc]+=" $M_CPU" R[ssc]+=" $M_RSS"
		ss "$WORK/ssc" "$f"; W[ssw]+=" $M_MS" C[ssw]+=" $M_CPU" R[ssw]+=" $M_RSS"
		tv "$WORK/tvc" "$f"; W[tvc]+=" $M_MS" C[tvc]+=" $M_CPU" R[tvc]+=" $M_RSS"
		tv "$WORK/tvc" "$f"; W[tvw]+=" $M_MS" C[tvw]+=" $M_CPU" R[tvw]+=" $M_RSS"
	done
	declare -A MW=()
	for k in ssc ssw tvc tvw; do
		# shellcheck disable=SC2086
		MW[$k]=$(median ${W[$k]})
		# shellcheck disable=SC2086
		label=$(case $k in ssc) echo "shipshape check, cold cache" ;; ssw) echo "shipshape check, warm cache" ;; tvc) echo "trivy secret scan, cold cache" ;; tvw) echo "trivy secret scan, warm cache" ;; esac)
		# shellcheck disable=SC2086
		echo "| $name | $label | $(secs "${MW[$k]}") | $(secs "$(median ${C[$k]})") | $(mib "$(median ${R[$k]})") |"
	done
	echo
	echo "$name: shipshape warm/cold $(ratio "${MW[ssw]}" "${MW[ssc]}"); shipshape warm / trivy warm $(ratio "${MW[ssw]}" "${MW[tvw]}"); shipshape cold (full check) / trivy cold (secrets only) $(ratio "${MW[ssc]}" "${MW[tvc]}") (RUNS=$RUNS, load average $(cut -d' ' -f1 /proc/loadavg), $(nproc) cores)"
	unset W C R MW
done
