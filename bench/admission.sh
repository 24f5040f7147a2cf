#!/usr/bin/env bash
# Load benchmark of the admission webhook: the real `shipshape serve
# --admission` over TLS on 127.0.0.1, SQLite, 1,000 approved images (and 100
# rejected) seeded with the store's API, AdmissionReviews of a Pod with 50
# containers sent at a constant rate by bench/admissionload (vegeta). Prints
# the client-side latencies (p50, p90, p99, p99.9, max), errors, wrong
# answers and answers over the webhook timeout, the server's own histogram,
# and the server's VmRSS, heap and goroutines every few seconds. Then the Go
# benchmarks of the handler alone (BenchmarkValidate50Containers*).
#
#   bench/admission.sh                      # 500 reviews/s for 60 s
#   RATE=1000 DURATION=30s bench/admission.sh
#
# Environment:
#   RATE        reviews per second (default 500)
#   DURATION    measured attack (default 60s), after a 5 s warm-up
#   CONTAINERS  containers per pod (default 50)
#   GOBENCH=0   skip the Go benchmarks
#   SHIPSHAPE_BENCH  where the run's files go ($CACHE/admission)
#
# Exits non-zero when a review got an error, a wrong answer or an answer
# later than the 5 s webhook timeout; the latency target (p99 < 10 ms) is
# reported, not enforced (the machine is shared).
set -euo pipefail

BENCH_TAG=admission
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE=${RATE:-500}
DURATION=${DURATION:-60s}
CONTAINERS=${CONTAINERS:-50}
W=$CACHE/admission
rm -rf "$W"
mkdir -p "$W"

log "building shipshape and bench/admissionload"
(cd "$REPO_ROOT" && go build -o "$W/shipshape" ./cmd/shipshape && go build -o "$W/admissionload" ./bench/admissionload)

"$W/admissionload" tls -dir "$W"
"$W/admissionload" seed -db "sqlite:$W/shipshape.db" -approved 1000 -rejected 100 >&2

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "starting shipshape serve --admission on 127.0.0.1:$port"
SHIPSHAPE_SKIP_VULNS=1 "$W/shipshape" serve --db "sqlite:$W/shipshape.db" --listen "127.0.0.1:$port" \
	--tls-cert "$W/tls.crt" --tls-key "$W/tls.key" \
	--admission --admission-mode enforce --admission-resolve submitted --admission-rule bench-warn=warn \
	--dashboard-url https://shipshape.example >"$W/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	curl -fsS --cacert "$W/ca.pem" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || die "shipshape serve exited: $(cat "$W/serve.log")"
	sleep 0.2
done

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$W/admissionload" attack -url "https://127.0.0.1:$port" -ca "$W/ca.pem" -pid "$pid" \
	-rate "$RATE" -duration "$DURATION" -containers "$CONTAINERS" -timeout 5s -out "$W/summary.json" || status=$?
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg); files in $W"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
trap - EXIT

if [[ ${GOBENCH:-1} != 0 ]]; then
	log "Go benchmarks of the handler alone"
	(cd "$REPO_ROOT" && go test -run '^$' -bench 'BenchmarkValidate50Containers' -benchtime 3s -count 3 ./internal/admission/)
fi
exit "$status"
