#!/usr/bin/env bash
# Judging stored facts: BenchmarkJudge and BenchmarkJudgeConcurrent100
# (internal/engine) against an advisory database with every ecosystem of the
# shared OSV exports imported (built once into $CACHE/vulndb with
# `shipshape db import`).
#
#   bench/judge.sh            # OSV exports from ../shared/data/osv
#   OSV=DIR bench/judge.sh
set -euo pipefail
BENCH_TAG=judge
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OSV=${OSV:-$REPO_ROOT/../shared/data/osv}
DB=$CACHE/vulndb
if [[ ! -s $DB/.complete ]]; then
	[[ -d $OSV ]] || die "no OSV exports in $OSV (set OSV=DIR)"
	log "importing $OSV into $DB (once)"
	rm -rf "$DB"
	mkdir -p "$DB"
	(cd "$REPO_ROOT" && go run ./cmd/shipshape db import --vulndb-dir "$DB" "$OSV") >&2
	date -u +%FT%TZ >"$DB/.complete"
fi
cd "$REPO_ROOT"
SHIPSHAPE_BENCH_VULNDB=$DB go test -run '^$' -bench 'BenchmarkJudge' -benchtime "${BENCHTIME:-20x}" ./internal/engine/
