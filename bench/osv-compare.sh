#!/usr/bin/env bash
# Cross-checks shipshape's vulnerability matching (SEC-020) against
# osv-scanner, offline, on the same images with the same OSV data, and
# prints Markdown: the time each tool takes per image, and every difference
# in what they report. docs/vulnerabilities.md explains the differences.
#
#   bench/osv-compare.sh                   # the fixture images (see below)
#   bench/osv-compare.sh IMAGE.tar...      # these docker-archives
#
# Needs:
#   osv-scanner v2.6.0: GOTOOLCHAIN=go1.27.3 go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.6.0
#                       (a few minutes; found on PATH or in $(go env GOPATH)/bin, or set OSV_SCANNER)
#   OSV data:           $OSV_DATA/<Ecosystem>/all.zip (default ../shared/data/osv beside the repo)
#   images:             without arguments, $SHIPSHAPE_FIXTURES (default ~/.cache/shipshape/fixtures)
#                       oldpkgs.tar, nginx.tar, webapp.tar and langapps.tar, those present
#                       (testdata/fixtures/build.sh builds them)
#
# osv-scanner reads its offline database from
# $OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY/osv-scalibr/<Ecosystem>/all.zip; the
# script links the same zips there and imports them into a fresh shipshape
# database (`shipshape db import`, timed once). Per image it times
#   osv-scanner scan image --offline --archive IMAGE --format json
#   shipshape check --format json IMAGE
# (both load their data each run: osv-scanner its zips, shipshape its SQLite
# files) and compares the reports with bench/osvcompare.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OSV_DATA=${OSV_DATA:-$REPO/../shared/data/osv}
FIXTURES=${SHIPSHAPE_FIXTURES:-$HOME/.cache/shipshape/fixtures}
OSV_SCANNER=${OSV_SCANNER:-$(command -v osv-scanner || echo "$(go env GOPATH)/bin/osv-scanner")}

die() {
	echo "osv-compare: $*" >&2
	exit 2
}
[[ -x $OSV_SCANNER ]] || die "osv-scanner not found (set OSV_SCANNER, or: GOTOOLCHAIN=go1.27.3 go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.6.0)"
[[ -d $OSV_DATA ]] || die "no OSV data in $OSV_DATA (set OSV_DATA to a directory of <Ecosystem>/all.zip)"

images=("$@")
if [[ ${#images[@]} -eq 0 ]]; then
	for n in oldpkgs nginx webapp langapps; do
		[[ -s $FIXTURES/$n.tar ]] && images+=("$FIXTURES/$n.tar")
	done
fi
[[ ${#images[@]} -gt 0 ]] || die "no images: build the fixtures (testdata/fixtures/build.sh) or name docker-archives"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/osv-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

ecos=()
for z in "$OSV_DATA"/*/all.zip; do
	e=$(basename "$(dirname "$z")")
	ecos+=("$e")
	mkdir -p "$WORK/osvcache/osv-scalibr/$e"
	ln -s "$(cd "$(dirname "$z")" && pwd)/all.zip" "$WORK/osvcache/osv-scalibr/$e/all.zip"
done

# osv-scanner gives up matching (and reports only part of what it found)
# when an ecosystem it needs has no offline database: give the ecosystems
# without data an empty export (a zip with no entries), so that both tools
# know nothing about them.
for e in Maven crates.io RubyGems NuGet Packagist Pub Hex Hackage CRAN Alpine Debian Go npm PyPI Ubuntu; do
	[[ -e $WORK/osvcache/osv-scalibr/$e/all.zip ]] && continue
	mkdir -p "$WORK/osvcache/osv-scalibr/$e"
	printf 'PK\005\006\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$WORK/osvcache/osv-scalibr/$e/all.zip"
done

(cd "$REPO" && go build -o "$WORK/shipshape" ./cmd/shipshape && go build -o "$WORK/osvcompare" ./bench/osvcompare)
t0=$(now)
"$WORK/shipshape" db import --vulndb-dir "$WORK/vulndb" "$OSV_DATA" >"$WORK/import.log" 2>&1 || {
	cat "$WORK/import.log" >&2
	die "shipshape db import failed"
}
import_s=$(secs "$t0" "$(now)")

echo "# shipshape vs osv-scanner $("$OSV_SCANNER" --version 2>/dev/null | head -1 | awk '{print $NF}')"
echo
echo "OSV data: ${ecos[*]} from $OSV_DATA. \`shipshape db import\` of all of it: ${import_s} s (once). Load average: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
summary="| image | osv-scanner (s) | shipshape check (s) | osv-scanner findings | shipshape findings | both |
|---|---|---|---|---|---|"
details=""
for img in "${images[@]}"; do
	name=$(basename "$img" .tar)
	t0=$(now)
	set +e
	OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$WORK/osvcache" "$OSV_SCANNER" scan image --offline --archive "$img" --format json >"$WORK/$name.osv.json" 2>"$WORK/$name.osv.err"
	rc=$?
	set -e
	osv_s=$(secs "$t0" "$(now)")
	[[ $rc -le 1 ]] || {
		tail -5 "$WORK/$name.osv.err" >&2
		die "osv-scanner failed on $img (exit $rc)"
	}
	t0=$(now)
	set +e
	SHIPSHAPE_VULNDB_DIR="$WORK/vulndb" "$WORK/shipshape" check --format json "$img" >"$WORK/$name.ship.json" 2>"$WORK/$name.ship.err"
	rc=$?
	set -e
	ship_s=$(secs "$t0" "$(now)")
	[[ $rc -le 1 ]] || {
		cat "$WORK/$name.ship.err" >&2
		die "shipshape failed on $img (exit $rc)"
	}
	d=$("$WORK/osvcompare" -name "$name" -osv "$WORK/$name.osv.json" -shipshape "$WORK/$name.ship.json")
	details+="$d"$'\n\n'
	counts=$(awk -F'|' '/reported/ { gsub(/ /, "", $3); gsub(/ /, "", $4); o=$3; s=$4 } /found by both/ { gsub(/ /, "", $3); b=$3 } END { print o, s, b }' <<<"$d")
	read -r no ns nb <<<"$counts"
	summary+=$'\n'"| $name | $osv_s | $ship_s | $no | $ns | $nb |"
done
echo "$summary"
echo
echo "shipshape's time is the whole \`check\` (every check, not only SEC-020) with its database already built."
echo
printf '%s' "$details"
