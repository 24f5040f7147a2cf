#!/usr/bin/env sh
# A plain shell gate: judge IMAGE, keep every report, fail the job only when
# the policy fails (exit 1). Exit 2/3 (bad input, tool error) fail it too,
# with a different message, so "the image is bad" and "the gate is broken"
# are never confused.
#
#   IMAGE=registry.example.com/team/app:1.4.2 ./gate.sh
set -u
IMAGE=${IMAGE:?set IMAGE to the image to judge}
OUT=${OUT:-shipshape-reports}
SHIPSHAPE=${SHIPSHAPE:-shipshape}
POLICY=${POLICY:-}

mkdir -p "$OUT"
set -- check "$IMAGE" \
  -o "json=$OUT/report.json" -o "sarif=$OUT/shipshape.sarif" \
  -o "junit=$OUT/junit.xml" -o "markdown=$OUT/summary.md" -o "html=$OUT/report.html"
[ -n "$POLICY" ] && set -- "$@" --policy "$POLICY"

"$SHIPSHAPE" "$@"
code=$?
case $code in
  0) echo "shipshape: $IMAGE may ship" ;;
  1) echo "shipshape: $IMAGE must not ship (see $OUT/summary.md)" >&2 ;;
  2) echo "shipshape: could not judge $IMAGE: bad input or usage (exit 2)" >&2 ;;
  *) echo "shipshape: internal error (exit $code)" >&2 ;;
esac
exit $code
