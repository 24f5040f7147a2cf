#!/usr/bin/env bash
# control-plane.sh - a real Kubernetes control plane (etcd + kube-apiserver, and
# kubectl) on 127.0.0.1 for shipshape's admission end-to-end tests.
#
# Usage: tools/kube/control-plane.sh build|up|env|status|down
#   build  : build kube-apiserver, etcd and kubectl from the Go module proxy into
#            $SHIPSHAPE_KUBE_CACHE/bin (skipped for every binary already there)
#   up     : build if needed, then (re)start etcd + kube-apiserver with fresh state
#            under $SHIPSHAPE_KUBE_STATE and print the test environment (see env)
#   env    : print `export SHIPSHAPE_KUBE_...=...` lines for the running plane
#   status : say whether the plane is up
#   down   : stop the processes `up` started (by the PIDs it recorded)
#
# Typical use:   eval "$(tools/kube/control-plane.sh up)"
#                go test -tags e2e -run Kube ./internal/admission/
#                tools/kube/control-plane.sh down
#
# Adapted from ../shared/scripts/kube-control-plane.sh (see its notes and
# ../shared/spec/kubernetes.md). Differences: binaries cached per version under
# ~/.cache/shipshape/kube/v$KUBE_VERSION; ports away from the usual 6443/2379 so
# that it can run beside another plane; the API server serves a certificate from
# our own CA so that kubectl verifies it (no insecure-skip-tls-verify); a
# kubeconfig is written; no demo webhook (the Go e2e test serves the real one).
#
# Only network traffic: the Go module proxy (build) and 127.0.0.1 (run).
# Needs: go (>= the go directive of kubernetes v$KUBE_VERSION: 1.26), openssl, curl, jq.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-1.37.2}        # k8s.io/kubernetes v$KUBE_VERSION, kubectl v$KUBE_VERSION
ETCD_VERSION=${ETCD_VERSION:-3.6.17}        # go.etcd.io/etcd/server/v3 v$ETCD_VERSION (unless ETCD_BIN)
CACHE=${SHIPSHAPE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shipshape/kube/v$KUBE_VERSION}
STATE=${SHIPSHAPE_KUBE_STATE:-${TMPDIR:-/tmp}/shipshape-kube-$(id -u)}
ETCD_PORT=${ETCD_PORT:-23790}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-23800}
API_PORT=${API_PORT:-26443}
TOKEN=${SHIPSHAPE_KUBE_TOKEN:-shipshape-e2e-admin-token}

BIN=$CACHE/bin
APISERVER=$BIN/kube-apiserver
KUBECTL=$BIN/kubectl
# ETCD_BIN=/usr/bin/etcd (Debian 12 etcd-server 3.4.23) also works with kube-apiserver 1.37.
ETCD=${ETCD_BIN:-$BIN/etcd}
API=https://127.0.0.1:$API_PORT

log() { echo "[control-plane $(date -u +%H:%M:%S)] $*" >&2; }

ver_ldflags() {  # so that /version and `kubectl version` report the release, not v0.0.0-master
  local v=$1 maj min f="-s -w"
  maj=${v%%.*}; min=${v#*.}; min=${min%%.*}
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    f="$f -X $p.gitVersion=v$v -X $p.gitMajor=$maj -X $p.gitMinor=$min -X $p.gitTreeState=clean"
  done
  echo "$f"
}

gobuild() {  # dir, output, ldflags: build a wrapper module; the binary appears atomically
  local src=$1 out=$2 ldflags=$3 t0=$SECONDS
  ( cd "$src" && GOFLAGS=-mod=mod go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.tmp" . )
  mv "$out.tmp" "$out"
  log "built $out in $((SECONDS - t0)) s"
}

build_apiserver() {
  [ -x "$APISERVER" ] && { log "cached: $APISERVER"; return; }
  local src=$CACHE/src/kube-apiserver kmod
  mkdir -p "$src" "$BIN"
  # k8s.io/kubernetes cannot be `go install`ed: its go.mod requires the staging modules
  # (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 and replaces them with ./staging paths.
  # A wrapper module replaces each with its published tag v0.<minor>.<patch>.
  kmod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | jq -r .GoMod)
  cat > "$src/main.go" <<'EOF'
// Same as k8s.io/kubernetes/cmd/kube-apiserver/apiserver.go
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
EOF
  {
    echo "module shipshape.local/kube-apiserver"; echo
    grep -E '^(go|godebug) ' "$kmod"; echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"; echo
    echo "replace ("
    grep -oE '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$kmod" | awk -v v="v0.${KUBE_VERSION#*.}" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } > "$src/go.mod"
  log "building kube-apiserver v$KUBE_VERSION (3.5-5.5 min on 2 cores with a cold build cache)"
  gobuild "$src" "$APISERVER" "$(ver_ldflags "$KUBE_VERSION")"
}

build_etcd() {
  if [ -n "${ETCD_BIN:-}" ]; then log "using ETCD_BIN=$ETCD_BIN"; return; fi
  [ -x "$ETCD" ] && { log "cached: $ETCD"; return; }
  local src=$CACHE/src/etcd
  mkdir -p "$src" "$BIN"
  cat > "$src/main.go" <<'EOF'
// Same as go.etcd.io/etcd/server/v3/main.go (the module has replace directives: no go install).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  printf 'module shipshape.local/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" > "$src/go.mod"
  log "building etcd v$ETCD_VERSION"
  gobuild "$src" "$ETCD" "-s -w"
}

build_kubectl() {
  [ -x "$KUBECTL" ] && { log "cached: $KUBECTL"; return; }
  local src=$CACHE/src/kubectl
  mkdir -p "$src" "$BIN"
  cat > "$src/main.go" <<'EOF'
// Same as k8s.io/kubernetes/cmd/kubectl/kubectl.go
package main

import (
	"os"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		util.CheckErr(err)
	}
}
EOF
  printf 'module shipshape.local/kubectl\n\ngo 1.24\n\nrequire k8s.io/kubectl v0.%s\n' "${KUBE_VERSION#*.}" > "$src/go.mod"
  log "building kubectl v$KUBE_VERSION"
  gobuild "$src" "$KUBECTL" "$(ver_ldflags "$KUBE_VERSION")"
}

build() {
  command -v go >/dev/null || { log "go not found"; exit 1; }
  local t0=$SECONDS
  build_etcd; build_kubectl; build_apiserver
  log "binaries ready in $CACHE/bin ($((SECONDS - t0)) s)"
}

start_bg() {  # name, command...: runs detached, PID recorded in $STATE/pids/name
  local name=$1; shift
  nohup "$@" > "$STATE/logs/$name.log" 2>&1 &
  echo $! > "$STATE/pids/$name"
  log "started $name pid $! (log $STATE/logs/$name.log)"
}

wait_http() {  # url, seconds, [curl args...]
  local url=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 2))); do
    curl -sf -o /dev/null "$@" "$url" && return 0
    sleep 0.5
  done
  log "timeout waiting for $url"; return 1
}

certs() {  # a CA, the API server's serving cert (IP SAN 127.0.0.1), service-account keys, the token file
  local p=$STATE/pki
  mkdir -p "$p"
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" -days 7 \
    -subj "/CN=shipshape-e2e-kube-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$p/apiserver.key" -out "$p/apiserver.csr" -subj "/CN=kube-apiserver" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > "$p/ext.cnf"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -out "$p/apiserver.crt" -days 7 -extfile "$p/ext.cnf" 2>/dev/null
  echo "$TOKEN,shipshape-e2e-admin,shipshape-e2e-admin,system:masters" > "$p/tokens.csv"
  chmod 600 "$p"/*.key "$p/tokens.csv"
}

kubeconfig() {
  cat > "$STATE/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: shipshape-e2e
  cluster:
    server: $API
    certificate-authority: $STATE/pki/ca.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: shipshape-e2e
  context: {cluster: shipshape-e2e, user: admin, namespace: default}
current-context: shipshape-e2e
EOF
  chmod 600 "$STATE/kubeconfig"
}

env_lines() {
  cat <<EOF
export SHIPSHAPE_KUBE_APISERVER=$API
export SHIPSHAPE_KUBE_TOKEN=$TOKEN
export SHIPSHAPE_KUBE_CA=$STATE/pki/ca.crt
export SHIPSHAPE_KUBECONFIG=$STATE/kubeconfig
export SHIPSHAPE_KUBECTL=$KUBECTL
EOF
}

# stray stops control-plane processes of these binaries that no pid file
# names (a run killed between start and its pid file, or a state directory
# removed under a running server): they would hold the ports and answer in
# place of the new ones, with a stale view of a new etcd.
stray() {
  local bin found=0
  for bin in "$APISERVER" "$ETCD"; do
    if pkill -f "^$bin( |$)" 2>/dev/null; then found=1; log "stopped a stray $(basename "$bin")"; fi
  done
  if [ $found = 1 ]; then
    for _ in $(seq 1 20); do pgrep -f "^($APISERVER|$ETCD)( |$)" >/dev/null || break; sleep 0.5; done
    pkill -9 -f "^($APISERVER|$ETCD)( |$)" 2>/dev/null || true
  fi
}

up() {
  build >&2
  down
  stray
  rm -rf "$STATE"; mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/apiserver-certs"
  certs; kubeconfig
  local t0=$SECONDS
  start_bg etcd "$ETCD" --name shipshape-e2e --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "shipshape-e2e=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" --unsafe-no-fsync
  wait_http "http://127.0.0.1:$ETCD_PORT/health" 30 || { tail -20 "$STATE/logs/etcd.log" >&2; exit 1; }
  # --endpoint-reconciler-type=none: 1.37 refuses a loopback --advertise-address with the
  #   default (lease) reconciler. --disable-admission-plugins=ServiceAccount: no controller
  #   manager creates the "default" ServiceAccount, so pod creation would be refused.
  # --service-cluster-ip-range is only a configuration value: nothing is ever sent there.
  # Without scheduler, kubelet or controllers, Pods stay Pending and Deployments create
  # no ReplicaSets; admission still runs on every create and update.
  start_bg kube-apiserver "$APISERVER" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --tls-cert-file="$STATE/pki/apiserver.crt" --tls-private-key-file="$STATE/pki/apiserver.key" \
    --cert-dir="$STATE/apiserver-certs" --endpoint-reconciler-type=none \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$STATE/pki/sa.pub" --service-account-signing-key-file="$STATE/pki/sa.key" \
    --token-auth-file="$STATE/pki/tokens.csv" --authorization-mode=AlwaysAllow \
    --disable-admission-plugins=ServiceAccount --service-cluster-ip-range=10.0.0.0/24
  wait_http "$API/readyz" 90 --cacert "$STATE/pki/ca.crt" -H "Authorization: Bearer $TOKEN" \
    || { tail -30 "$STATE/logs/kube-apiserver.log" >&2; down; exit 1; }
  local p
  for p in etcd kube-apiserver; do   # the answer must come from the processes just started
    kill -0 "$(cat "$STATE/pids/$p")" 2>/dev/null || { log "$p exited:"; tail -20 "$STATE/logs/$p.log" >&2; down; exit 1; }
  done
  log "kube-apiserver ready at $API in $((SECONDS - t0)) s"
  env_lines
}

status() {
  if [ -f "$STATE/pids/kube-apiserver" ] && curl -sf -o /dev/null --cacert "$STATE/pki/ca.crt" \
      -H "Authorization: Bearer $TOKEN" "$API/readyz"; then
    echo "up: $API (state $STATE)"
  else
    echo "down"; return 1
  fi
}

down() {
  [ -d "$STATE/pids" ] || return 0
  local f pid
  for f in kube-apiserver etcd; do   # reverse start order
    [ -f "$STATE/pids/$f" ] || continue
    pid=$(cat "$STATE/pids/$f")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
      log "stopped $f pid $pid"
    fi
    rm -f "$STATE/pids/$f"
  done
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  env) env_lines ;;
  status) status ;;
  down) down ;;
  *) echo "usage: $0 build|up|env|status|down" >&2; exit 2 ;;
esac
