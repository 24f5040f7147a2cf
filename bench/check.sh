#!/usr/bin/env bash
# Benchmarks `shipshape check` against readlayers, the floor of reading every
# layer once, and prints a Markdown table.
#
#   bench/large-image.sh && bench/check.sh            # the usual run
#   bench/check.sh ARCHIVE.tar...                     # only these docker-archives
#
# Images (without arguments), each a `docker save` tarball:
#   $CACHE/large.tar        the ~1 GB image from bench/large-image.sh (required)
#   $CACHE/large-gzip.tar   the same image with gzip-compressed layers (if present)
#   $FIXTURES/*.tar         the small fixtures of testdata/fixtures/build.sh (if
#                           present; base-rootfs.tar, a plain rootfs, is skipped)
#
# For each image, after one warm-up pass (the archive is read into the page
# cache, so the numbers are CPU-bound, not disk-bound), each of these runs
# $RUNS times, interleaved:
#   readlayers FILE             read + decompress + tar-walk every layer to io.Discard
#   readlayers -sha256 FILE     the same, plus computing and checking every diff ID
#   shipshape check --format json -o REPORT docker-archive:FILE
# under `/usr/bin/time -v` (peak RSS); wall and CPU time are taken with bash's
# `time` around the same command (ms resolution; /usr/bin/time's are 10 ms). The table gives the
# median of the runs; every run is also written to $CACHE/check-runs.tsv.
# A second table gives the CPU time (user+sys, median) of the same runs, which
# other load on the machine disturbs less than wall time; the load average is
# printed with the tables.
#
# shipshape's exit status 1 (the verdict is FAIL) is expected for most images;
# 2 (usage/input error) and 3 (internal error) fail this script.
#
# Environment:
#   SHIPSHAPE_BENCH       cache directory of bench/large-image.sh
#                         (default $HOME/.cache/shipshape/bench)
#   SHIPSHAPE_FIXTURES    fixture directory (default $HOME/.cache/shipshape/fixtures)
#   RUNS                  runs per program and image (default 3)
set -euo pipefail

BENCH_TAG=bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- tools --------------------------------------------------------------------

if ! "$TIME" -v true >/dev/null 2>&1; then
	if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		log "installing GNU time (apt-get install -y time)"
		apt-get install -y time >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } ||
			die "apt-get install time failed"
	fi
	"$TIME" -v true >/dev/null 2>&1 || die "GNU time is needed at $TIME (apt-get install time)"
fi
command -v go >/dev/null 2>&1 || die "go not found in PATH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "building shipshape and readlayers"
(
	cd "$REPO_ROOT"
	go build -o "$WORK/shipshape" ./cmd/shipshape
	go build -o "$WORK/readlayers" ./bench/readlayers
) || die "go build failed"

# --- images -------------------------------------------------------------------

is_docker_archive() { tar -tf "$1" manifest.json >/dev/null 2>&1; }

IMAGES=()
if (($# > 0)); then
	for f in "$@"; do
		[[ -f $f ]] || die "no such file: $f"
		IMAGES+=("$f")
	done
else
	[[ -s $CACHE/large.tar ]] || die "$CACHE/large.tar not found: run bench/large-image.sh first"
	IMAGES+=("$CACHE/large.tar")
	[[ -s $CACHE/large-gzip.tar ]] && IMAGES+=("$CACHE/large-gzip.tar")
	if [[ -d $FIXTURES ]]; then
		for f in "$FIXTURES"/*.tar; do
			[[ -s $f ]] || continue
			if is_docker_archive "$f"; then
				IMAGES+=("$f")
			else
				log "skipping $f (not a docker-archive)"
			fi
		done
	fi
fi

# --- measuring ----------------------------------------------------------------

# measure OUT ERR CMD...: runs CMD under /usr/bin/time -v. Sets M_RC (CMD's
# exit status), M_MS (wall, ms), M_CPU (user+sys, ms), M_RSS (peak RSS, KiB).
measure() {
	local out=$1 err=$2
	shift 2
	local TIMEFORMAT='%3R %3U %3S'
	set +e
	{ time "$TIME" -v -o "$WORK/time.txt" "$@" >"$out" 2>"$err"; } 2>"$WORK/bashtime.txt"
	M_RC=$?
	set -e
	# GNU time exits with the command's status; for a command killed by a
	# signal it says "Command terminated by signal N" and exits 128+N.
	if grep -q 'Command terminated by signal' "$WORK/time.txt"; then
		M_RC=$((128 + $(sed -n 's/.*Command terminated by signal \([0-9]*\).*/\1/p' "$WORK/time.txt")))
	fi
	read -r M_MS M_CPU <<<"$(awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' "$WORK/bashtime.txt")"
	M_RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
	[[ -n $M_RSS ]] || M_RSS=0
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f s", ms / 1000 }'; }
mib() { awk -v b="$1" 'BEGIN { if (b >= 1048576 * 10) printf "%.0f MiB", b / 1048576; else printf "%.1f MiB", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
json_num() { grep -o "\"$1\": *[0-9]*" "$2" | head -n1 | grep -o '[0-9]*$'; }
json_str() { grep -o "\"$1\": *\"[^\"]*\"" "$2" | head -n1 | sed 's/.*: *"\(.*\)"/\1/'; }

loadavg() { cut -d' ' -f1 /proc/loadavg; }
LOAD_START=$(loadavg)
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
	log "WARNING: load average is $LOAD_START on $(nproc) cores: wall times will be inflated (CPU times less so)"
fi

mkdir -p "$CACHE"
RUNS_TSV=$CACHE/check-runs.tsv
printf 'image\trun\tprogram\twall_ms\tcpu_ms\tpeak_rss_kib\texit\n' >"$RUNS_TSV"

ROWS=() CPU_ROWS=()
for f in "${IMAGES[@]}"; do
	name=$(basename "$f" .tar)
	log "$name: warming up"
	cat "$f" >/dev/null
	"$WORK/readlayers" -json "$f" >"$WORK/rl.json" 2>"$WORK/rl.err" ||
		die "readlayers failed on $f: $(cat "$WORK/rl.err")"
	entries=$(json_num entries "$WORK/rl.json")
	tar_bytes=$(json_num tar_bytes "$WORK/rl.json")
	comp=$(json_str compression "$WORK/rl.json")
	size=$(stat -c %s "$f")

	rl=() rls=() ss=() ss_rss=() ss_cpu=() rl_cpu=() rls_cpu=()
	verdict=""
	for ((r = 1; r <= RUNS; r++)); do
		measure "$WORK/out" "$WORK/err" "$WORK/readlayers" "$f"
		((M_RC == 0)) || die "readlayers failed on $f (exit $M_RC): $(cat "$WORK/err")"
		rl+=("$M_MS") rl_cpu+=("$M_CPU")
		printf '%s\t%d\treadlayers\t%d\t%d\t%d\t%d\n' "$name" "$r" "$M_MS" "$M_CPU" "$M_RSS" "$M_RC" >>"$RUNS_TSV"

		measure "$WORK/out" "$WORK/err" "$WORK/readlayers" -sha256 "$f"
		((M_RC == 0)) || die "readlayers -sha256 failed on $f (exit $M_RC): $(cat "$WORK/err")"
		rls+=("$M_MS") rls_cpu+=("$M_CPU")
		printf '%s\t%d\treadlayers-sha256\t%d\t%d\t%d\t%d\n' "$name" "$r" "$M_MS" "$M_CPU" "$M_RSS" "$M_RC" >>"$RUNS_TSV"

		rm -f "$WORK/report.json"
		measure "$WORK/out" "$WORK/err" "$WORK/shipshape" check --format json -o "$WORK/report.json" "docker-archive:$f"
		case $M_RC in
		0) verdict=PASS ;;
		1) verdict=FAIL ;;
		*) die "shipshape check failed on $f (exit $M_RC): $(cat "$WORK/err")" ;;
		esac
		ss+=("$M_MS") ss_rss+=("$M_RSS") ss_cpu+=("$M_CPU")
		printf '%s\t%d\tshipshape\t%d\t%d\t%d\t%d\n' "$name" "$r" "$M_MS" "$M_CPU" "$M_RSS" "$M_RC" >>"$RUNS_TSV"
	done
	files=$(json_num files "$WORK/report.json")
	if [[ -n $files && $files != "$entries" ]]; then
		log "$name: shipshape counts $files files, readlayers $entries tar entries"
	fi
	m_rl=$(median "${rl[@]}")
	m_rls=$(median "${rls[@]}")
	m_ss=$(median "${ss[@]}")
	m_cpu=$(median "${ss_cpu[@]}")
	m_rl_cpu=$(median "${rl_cpu[@]}")
	m_rls_cpu=$(median "${rls_cpu[@]}")
	max_rss=$(printf '%s\n' "${ss_rss[@]}" | sort -n | tail -n1)
	sz=$(mib "$size")
	[[ $comp == none ]] || sz="$sz $comp ($(mib "$tar_bytes") tar)"
	ROWS+=("| $name | $sz | ${files:-$entries} | $(secs "$m_rl") | $(secs "$m_rls") | $(secs "$m_ss") | $(ratio "$m_ss" "$m_rl") | $(ratio "$m_ss" "$m_rls") | $(mib $((max_rss * 1024))) | $verdict |")
	CPU_ROWS+=("| $name | $(secs "$m_rl_cpu") | $(secs "$m_rls_cpu") | $(secs "$m_cpu") | $(ratio "$m_cpu" "$m_rl_cpu") | $(ratio "$m_cpu" "$m_rls_cpu") |")
	log "$name: readlayers $(secs "$m_rl"), +sha256 $(secs "$m_rls"), shipshape $(secs "$m_ss"), peak RSS $(mib $((max_rss * 1024)))"
done

# --- table --------------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
rev=$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(GIT_OPTIONAL_LOCKS=0 git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	rev="$rev + uncommitted changes"
fi
printf 'shipshape %s\n' "$rev"
printf '%s, %s cores (%s), %s; median of %d runs, warm page cache; load average %s at the start, %s at the end\n\n' \
	"$(uname -sr)" "$(nproc)" "${cpu:-unknown CPU}" "$(go version | awk '{ print $3 }')" "$RUNS" "$LOAD_START" "$(loadavg)"
echo "Wall time (median) and peak RSS:"
echo
echo "| image | size | files | readlayers | readlayers -sha256 | shipshape check | ratio | ratio vs -sha256 | shipshape peak RSS | verdict |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "CPU time, user+sys (median):"
echo
echo "| image | readlayers | readlayers -sha256 | shipshape check | ratio | ratio vs -sha256 |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${CPU_ROWS[@]}"
log "every run: $RUNS_TSV"
