#!/usr/bin/env bash
# Compares the whole `shipshape check` of an image with Trivy's secret scan
# alone (`trivy image --input FILE --scanners secret`) on the same
# docker-archive, and prints a Markdown table and what each reported.
#
#   bench/secrets-trivy.sh                      # the ~1 GB image and the fixtures
#   bench/secrets-trivy.sh ARCHIVE.tar...       # only these docker-archives
#
# Images (without arguments): $CACHE/large.tar from bench/large-image.sh (if
# present) and the fixtures of testdata/fixtures/build.sh (secrets, webapp,
# nginx, base, rootlatest; those present).
#
# Trivy: $TRIVY, else `trivy` on PATH, else ~/go/bin/trivy; when none exists
# it is installed at the pinned version from the Go module proxy (several
# minutes): GOEXPERIMENT=jsonv2 go install github.com/aquasecurity/trivy/cmd/trivy@v0.74.0
# It runs offline (--skip-db-update --skip-java-db-update --offline-scan,
# secret scanner only) with a fresh TRIVY_CACHE_DIR for every run, since
# Trivy caches the layers it has analysed.
#
# Each program runs $RUNS times (default 3), interleaved, after one warm-up
# read of the archive (page cache), under /usr/bin/time -v: the table gives
# the median wall time, the median CPU time (user+sys) and the peak RSS.
# shipshape's exit status 1 (the verdict is FAIL) is expected; 2 and 3 fail
# the script.
#
# Environment: SHIPSHAPE_BENCH (default ~/.cache/shipshape/bench),
# SHIPSHAPE_FIXTURES (default ~/.cache/shipshape/fixtures), RUNS, TRIVY.
set -euo pipefail

BENCH_TAG=secrets-bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TRIVY_VERSION=v0.74.0
"$TIME" -v true >/dev/null 2>&1 || die "GNU time is needed at $TIME (apt-get install time)"
command -v go >/dev/null 2>&1 || die "go not found in PATH"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to read the JSON reports"

# --- tools --------------------------------------------------------------------

TRIVY=${TRIVY:-$(command -v trivy || true)}
[[ -n $TRIVY ]] || TRIVY=$(go env GOPATH)/bin/trivy
if [[ ! -x $TRIVY ]]; then
	log "installing trivy $TRIVY_VERSION from the Go module proxy (several minutes)"
	GOEXPERIMENT=jsonv2 go install "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION" ||
		die "go install trivy failed"
	TRIVY=$(go env GOPATH)/bin/trivy
fi
# A `go install`ed trivy says "Version: dev"; its module version is in the build info.
tv=$(go version -m "$TRIVY" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')
[[ -n $tv ]] || tv=v$("$TRIVY" --version 2>/dev/null | awk '/^Version:/ { print $2; exit }')
[[ $tv == "$TRIVY_VERSION" ]] || log "WARNING: trivy is version ${tv:-unknown}, the pinned one is $TRIVY_VERSION"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-secrets-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building shipshape"
(cd "$REPO_ROOT" && go build -o "$WORK/shipshape" ./cmd/shipshape) || die "go build failed"

# --- images -------------------------------------------------------------------

IMAGES=()
if (($# > 0)); then
	for f in "$@"; do
		[[ -f $f ]] || die "no such file: $f"
		IMAGES+=("$f")
	done
else
	[[ -s $CACHE/large.tar ]] && IMAGES+=("$CACHE/large.tar")
	for n in secrets webapp nginx base rootlatest; do
		[[ -s $FIXTURES/$n.tar ]] && IMAGES+=("$FIXTURES/$n.tar")
	done
	((${#IMAGES[@]} > 0)) || die "no image: run bench/large-image.sh or testdata/fixtures/build.sh"
fi

# --- measuring ----------------------------------------------------------------


# shipshape_found REPORT: one line per CMP-004 evidence: "path:line rule (layer N)".
shipshape_found() {
	python3 - "$1" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
for r in rep.get("results", []):
    if r["check"]["id"] != "CMP-004":
        continue
    for f in r.get("findings") or []:
        for e in f.get("evidence") or []:
            print("%s:%s %s (layer %s)" % (e.get("path"), e.get("line", 0), e.get("field", "").replace("rule ", ""), e.get("layer")))
EOF
}

# trivy_found REPORT: one line per secret: "path:line rule".
trivy_found() {
	python3 - "$1" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
for res in rep.get("Results") or []:
    for s in res.get("Secrets") or []:
        print("/%s:%s %s" % (res.get("Target", "").lstrip("/"), s.get("StartLine", 0), s.get("RuleID")))
EOF
}

loadavg() { cut -d' ' -f1 /proc/loadavg; }
LOAD_START=$(loadavg)
ROWS=()
FOUND=()
for f in "${IMAGES[@]}"; do
	name=$(basename "$f" .tar)
	log "$name: warming up"
	cat "$f" >/dev/null
	ss=() ss_cpu=() ss_rss=() tr=() tr_cpu=() tr_rss=()
	for ((r = 1; r <= RUNS; r++)); do
		measure "$WORK/out" "$WORK/err" "$WORK/shipshape" check --format json -o "$WORK/ss.json" "docker-archive:$f"
		((M_RC <= 1)) || die "shipshape check failed on $f (exit $M_RC): $(cat "$WORK/err")"
		ss+=("$M_MS") ss_cpu+=("$M_CPU") ss_rss+=("$M_RSS")

		rm -rf "$WORK/trivy-cache"
		measure "$WORK/out" "$WORK/err" env TRIVY_CACHE_DIR="$WORK/trivy-cache" "$TRIVY" image --quiet \
			--skip-db-update --skip-java-db-update --offline-scan --scanners secret \
			--format json --output "$WORK/trivy.json" --input "$f"
		((M_RC == 0)) || die "trivy failed on $f (exit $M_RC): $(tail -n 5 "$WORK/err")"
		tr+=("$M_MS") tr_cpu+=("$M_CPU") tr_rss+=("$M_RSS")
	done
	m_ss=$(median "${ss[@]}") m_tr=$(median "${tr[@]}")
	s_found=$(shipshape_found "$WORK/ss.json")
	t_found=$(trivy_found "$WORK/trivy.json")
	ns=$(grep -c . <<<"$s_found" || true)
	nt=$(grep -c . <<<"$t_found" || true)
	ROWS+=("| $name | $(mib $(($(stat -c %s "$f") / 1024))) | $(secs "$m_ss") | $(secs "$(median "${ss_cpu[@]}")") | $(mib "$(printf '%s\n' "${ss_rss[@]}" | sort -n | tail -n1)") | $ns | $(secs "$m_tr") | $(secs "$(median "${tr_cpu[@]}")") | $(mib "$(printf '%s\n' "${tr_rss[@]}" | sort -n | tail -n1)") | $nt | $(ratio "$m_ss" "$m_tr") |")
	FOUND+=("### $name" "" "shipshape CMP-004 ($ns):" '```' "${s_found:-(none)}" '```' "trivy --scanners secret ($nt):" '```' "${t_found:-(none)}" '```' "")
	log "$name: shipshape check $(secs "$m_ss"), trivy secret scan $(secs "$m_tr")"
done

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
printf 'shipshape %s, trivy %s\n' "$rev" "${tv:-unknown}"
printf '%s, %s cores (%s), %s; median of %d runs, warm page cache, fresh TRIVY_CACHE_DIR per run; load average %s at the start, %s at the end\n\n' \
	"$(uname -sr)" "$(nproc)" "${cpu:-unknown CPU}" "$(go version | awk '{ print $3 }')" "$RUNS" "$LOAD_START" "$(loadavg)"
echo "| image | size | shipshape check (whole) | CPU | peak RSS | secrets (CMP-004 evidence) | trivy secret scan | CPU | peak RSS | secrets | shipshape / trivy wall |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
printf '%s\n' "${FOUND[@]}"
