#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, set-up included: this is
# what `make test` (README) and CI (.ci/run) run.
#
# It installs what the tests need when missing (docker.io, debootstrap, npm,
# chromium, postgresql, jq, openssl, curl), starts a Docker engine, builds the
# pinned cosign CLI and the Kubernetes control plane (kube-apiserver, etcd,
# kubectl from the Go module proxy; cached in ~/.cache/shipshape), starts a
# throwaway PostgreSQL on 127.0.0.1:55432 and the control plane on
# 127.0.0.1, builds the fixture images (cached), then runs go vet and
# go test. Needs root for apt and dockerd. Nothing listens beyond 127.0.0.1.
#
# With CI set (as .ci/run does), tests whose backend is missing fail
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v npm >/dev/null || need+=(npm)             # the langapps fixture installs a real node_modules tree
command -v chromium >/dev/null || need+=(chromium)   # the HTML report test opens the page in a real browser
for tool in jq openssl curl; do                      # tools/kube/control-plane.sh
  command -v $tool >/dev/null || need+=($tool)
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (apt)" >&2
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd" >&2
  (dockerd --bridge=none --iptables=false >/tmp/shipshape-ci-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail -20 /tmp/shipshape-ci-dockerd.log >&2; exit 1; }
fi

# The signature tests sign fixture images with the real cosign CLI (pinned),
# built once into ~/.cache/shipshape/peers/bin.
peers="$HOME/.cache/shipshape/peers/bin"
export PATH="$peers:$(go env GOPATH)/bin:$PATH"
if ! command -v cosign >/dev/null || ! cosign version 2>/dev/null | grep -q 'v3.1.3'; then
  echo "installing cosign v3.1.3 (takes a few minutes the first time)" >&2
  GOBIN="$peers" go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3
fi

# The store, fleet and server tests run on SQLite and on a real PostgreSQL:
# a throwaway cluster on 127.0.0.1:55432 (Debian's postgresql).
eval "$(tools/ci/postgres.sh)"

# The admission end-to-end tests run against a real kube-apiserver + etcd
# with the real kubectl, built once from the Go module proxy into
# ~/.cache/shipshape/kube (4-6 min on 2 cores when cold, cached after).
kube_env=$(tools/kube/control-plane.sh up)   # an assignment, so that set -e stops on failure
eval "$kube_env"
trap 'tools/kube/control-plane.sh down' EXIT

testdata/fixtures/build.sh
testdata/fixtures/bullseye.sh
${GO:-go} vet ./...
${GO:-go} test -count=1 -timeout 30m ./...
