#!/usr/bin/env bash
# Compares `shipshape sbom` with Syft on the same docker-archive tarballs:
# the (ecosystem, name, version) sets each finds, recall in both directions,
# wall time and peak RSS. Prints a Markdown table (docs/sbom.md quotes it).
#
#   bench/syft-compare.sh                  # every fixture of testdata/fixtures/build.sh
#   bench/syft-compare.sh ARCHIVE.tar...   # only these
#
# Syft is pinned: install it once with (it takes minutes; never commit the binary)
#   go install github.com/anchore/syft/cmd/syft@v1.57.1
# The script looks for $SYFT, then syft in PATH, then $(go env GOPATH)/bin/syft,
# and checks the module version with `go version -m`.
#
# Ecosystem is the purl type of each package (deb, apk, npm, pypi, golang,
# maven, ...), falling back to the tool's own type when a package has no purl.
# Maven names are compared without the group (Syft's name is the artifact id).
# For each archive the keys found by one tool only are written to
# $OUT/<name>.only-syft.tsv and $OUT/<name>.only-shipshape.tsv, and both SBOMs
# are kept as $OUT/<name>.syft.json and $OUT/<name>.shipshape.json.
#
# Each tool runs once per archive after the archive was read once into the
# page cache; wall time is bash's EPOCHREALTIME around the command, peak RSS
# comes from `/usr/bin/time -v`.
#
# Environment:
#   SYFT                 path of the syft binary
#   SHIPSHAPE_FIXTURES   fixture directory (default $HOME/.cache/shipshape/fixtures)
#   OUT                  output directory (default $HOME/.cache/shipshape/syft-compare)
set -euo pipefail

SYFT_VERSION=v1.57.1
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
FIXTURES=${SHIPSHAPE_FIXTURES:-${HOME:?HOME is not set}/.cache/shipshape/fixtures}
OUT=${OUT:-$HOME/.cache/shipshape/syft-compare}

die() {
	printf 'syft-compare: %s\n' "$*" >&2
	exit 1
}

for tool in jq go comm; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install -y time)"

if [[ -z ${SYFT:-} ]]; then
	SYFT=$(command -v syft || true)
	if [[ -z $SYFT && -x "$(go env GOPATH)/bin/syft" ]]; then
		SYFT=$(go env GOPATH)/bin/syft
	fi
fi
[[ -n ${SYFT:-} && -x $SYFT ]] || die "syft not found: go install github.com/anchore/syft/cmd/syft@$SYFT_VERSION"
have=$(go version -m "$SYFT" | awk '$1 == "mod" { print $3 }')
[[ $have == "$SYFT_VERSION" ]] || die "$SYFT is syft $have, want $SYFT_VERSION"

archives=("$@")
if [[ ${#archives[@]} -eq 0 ]]; then
	for f in "$FIXTURES"/*.tar; do
		[[ $(basename "$f") == base-rootfs.tar ]] && continue
		archives+=("$f")
	done
fi
[[ ${#archives[@]} -gt 0 ]] || die "no archives (run testdata/fixtures/build.sh, or name some)"

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/syft-compare.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
(cd "$REPO_ROOT" && go build -o "$TMP/shipshape" ./cmd/shipshape) || die "go build failed"

# timed NAME CMD...: runs CMD, sets WALL_MS and RSS_MB.
timed() {
	local name=$1
	shift
	local t0=${EPOCHREALTIME/[.,]/}
	/usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.log" 2>&1 || {
		cat "$TMP/$name.log" >&2
		die "$name failed: $*"
	}
	local t1=${EPOCHREALTIME/[.,]/}
	WALL_MS=$(((t1 - t0) / 1000))
	RSS_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$TMP/$name.time")
}

# The purl type, else the fallback; Maven without its group.
KEYS_SYFT='.artifacts[] | [((.purl // "") | capture("^pkg:(?<t>[^/]+)/").t // .type), .name, .version] | @tsv'
KEYS_OURS='.packages[] | [((.purl // "") | capture("^pkg:(?<t>[^/]+)/").t // .ecosystem),
  (if ((.purl // "") | startswith("pkg:maven/")) then (.name | split(":") | last) else .name end), .version] | @tsv'

printf '| image | Syft packages | shipshape packages | in both | Syft found by shipshape | shipshape found by Syft | Syft wall / peak RSS | shipshape wall / peak RSS |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for f in "${archives[@]}"; do
	n=$(basename "$f" .tar)
	cat "$f" >/dev/null # into the page cache for both tools
	SYFT_CHECK_FOR_APP_UPDATE=false timed "$n.syft" "$SYFT" scan -q -o "syft-json=$OUT/$n.syft.json" "docker-archive:$f"
	sw=$WALL_MS sr=$RSS_MB
	timed "$n.shipshape" "$TMP/shipshape" sbom --format json -o "$OUT/$n.shipshape.json" "docker-archive:$f"
	ow=$WALL_MS or=$RSS_MB
	jq -r "$KEYS_SYFT" "$OUT/$n.syft.json" | LC_ALL=C sort -u >"$TMP/syft.keys"
	jq -r "$KEYS_OURS" "$OUT/$n.shipshape.json" | LC_ALL=C sort -u >"$TMP/ours.keys"
	LC_ALL=C comm -23 "$TMP/syft.keys" "$TMP/ours.keys" >"$OUT/$n.only-syft.tsv"
	LC_ALL=C comm -13 "$TMP/syft.keys" "$TMP/ours.keys" >"$OUT/$n.only-shipshape.tsv"
	s=$(wc -l <"$TMP/syft.keys")
	o=$(wc -l <"$TMP/ours.keys")
	both=$(LC_ALL=C comm -12 "$TMP/syft.keys" "$TMP/ours.keys" | wc -l)
	pct() { if [[ $2 -eq 0 ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * a / b }'; fi; }
	printf '| %s | %d | %d | %d | %s | %s | %.2f s / %d MB | %.2f s / %d MB |\n' "$n" "$s" "$o" "$both" \
		"$(pct "$both" "$s")" "$(pct "$both" "$o")" "$(awk -v m="$sw" 'BEGIN { print m / 1000 }')" "$sr" \
		"$(awk -v m="$ow" 'BEGIN { print m / 1000 }')" "$or"
done
printf '\nsyft %s (%s), shipshape %s; differences in %s/*.only-*.tsv\n' "$SYFT_VERSION" "$SYFT" "$(cd "$REPO_ROOT" && git describe --always --dirty 2>/dev/null || echo dev)" "$OUT"
