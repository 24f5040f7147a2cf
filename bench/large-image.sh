#!/usr/bin/env bash
# Builds the ~1 GB benchmark image shipshape-bench/large:1.0 and saves it as a
# docker-archive tarball for bench/check.sh.
#
#   bench/large-image.sh
#
# Output directory: ${SHIPSHAPE_BENCH:-$HOME/.cache/shipshape/bench}
#   large.tar       `docker save` of shipshape-bench/large:1.0 (layers are
#                   plain tar, as docker save writes them)
#   large.key       sha256 of the Dockerfile that built large.tar (written last)
#   large-gzip.tar  the same archive with every layer gzip-compressed (gzip -6),
#                   as an image pulled from a registry has them; same config
#                   and diff IDs, so it is the same image to shipshape
#   large-gzip.key  the key of the large.tar it was made from
#   ctx/            the build context (just the Dockerfile)
#   logs/           build log of the last rebuild
#
# The image is rebuilt only when large.tar is missing or the Dockerfile below
# changed (its sha256 differs from large.key). large-gzip.tar is
# remade whenever large.tar was. The base image
# shipshape-fixture/base:bookworm is built with testdata/fixtures/build.sh
# when the Docker engine does not have it.
#
# Needs: docker (daemon reachable; `docker build --network host` reaches the
# Debian mirror configured in the base image).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE=${SHIPSHAPE_BENCH:-${HOME:?HOME is not set and SHIPSHAPE_BENCH is empty}/.cache/shipshape/bench}
TAG=shipshape-bench/large:1.0
BASE_TAG=shipshape-fixture/base:bookworm

# Same builder as the fixtures: no buildx plugin needed.
export DOCKER_BUILDKIT=0

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
	printf '[bench] ERROR: %s\n' "$*" >&2
	exit 1
}

# A typical "fat" build image: compilers, a JDK, Python with pip, git.
# Roughly 1 GB uncompressed and tens of thousands of files in a handful of
# layers, including a layer that deletes files (whiteouts).
read -r -d '' DOCKERFILE <<'DOCKERFILE' || true
FROM shipshape-fixture/base:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-pip python3-venv python3-dev \
      default-jdk-headless build-essential git \
 && rm -rf /var/lib/apt/lists/*
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake ninja-build pkg-config libssl-dev zlib1g-dev \
      python3-numpy \
 && rm -rf /var/lib/apt/lists/*
RUN rm -rf /usr/share/doc/* /usr/share/man/*
WORKDIR /src
CMD ["bash"]
DOCKERFILE
DOCKERFILE+=$'\n'

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
KEY=$(printf '%s' "$DOCKERFILE" | sha256sum | cut -d' ' -f1)

# make_gzip_variant: large.tar -> large-gzip.tar with gzip-compressed layers.
make_gzip_variant() {
	local tmp layers start=$SECONDS
	rm -f "$CACHE/large-gzip.key" "$CACHE/large-gzip.tar.tmp"
	tmp=$(mktemp -d "$CACHE/gzip.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	log "gzip variant: compressing the layers of large.tar -> $CACHE/large-gzip.tar"
	tar -C "$tmp" -xf "$CACHE/large.tar"
	[[ -f $tmp/manifest.json ]] || die "large.tar has no manifest.json"
	# Layer paths from manifest.json ("<id>/layer.tar" or "blobs/sha256/<hex>"),
	# each once: an archive may list the same blob twice.
	layers=$(tr -d '\n' <"$tmp/manifest.json" | sed -n 's/.*"Layers":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | tr -d '" ' | sort -u)
	[[ -n $layers ]] || die "no layers found in large.tar's manifest.json"
	# The file names stay as they are: readers detect gzip from the magic bytes.
	# Layers that are gzip already (some engines save them so) are left alone.
	# shellcheck disable=SC2016 # $1 is expanded by the inner sh
	printf '%s\n' "$layers" | (cd "$tmp" && xargs -r -P "$(nproc)" -I{} sh -c 'gzip -t "$1" 2>/dev/null || { gzip -6 -n -c "$1" >"$1.gz" && mv -f "$1.gz" "$1"; }' _ {})
	(cd "$tmp" && LC_ALL=C tar --numeric-owner --owner=0 --group=0 -cf "$CACHE/large-gzip.tar.tmp" -- *)
	mv -f "$CACHE/large-gzip.tar.tmp" "$CACHE/large-gzip.tar"
	rm -rf "$tmp"
	trap - EXIT
	echo "$KEY" >"$CACHE/large-gzip.key"
	log "gzip variant: done in $((SECONDS - start))s ($(du -h "$CACHE/large-gzip.tar" | cut -f1))"
}

if [[ -s $CACHE/large.tar && -f $CACHE/large.key && "$(<"$CACHE/large.key")" == "$KEY" ]]; then
	log "$CACHE/large.tar is up to date (key ${KEY:0:12}, $(du -h "$CACHE/large.tar" | cut -f1))"
	if [[ ! -s $CACHE/large-gzip.tar || ! -f $CACHE/large-gzip.key || "$(<"$CACHE/large-gzip.key")" != "$KEY" ]]; then
		make_gzip_variant
	fi
	exit 0
fi

command -v docker >/dev/null 2>&1 || die "docker CLI not found in PATH"
if ! docker_err=$(docker info 2>&1 >/dev/null); then
	die "docker daemon is not reachable (docker info failed: ${docker_err##*$'\n'}). Start it, e.g. 'dockerd --bridge=none --iptables=false &', and retry."
fi

if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
	log "$BASE_TAG missing: running testdata/fixtures/build.sh"
	"$REPO_ROOT/testdata/fixtures/build.sh"
	docker image inspect "$BASE_TAG" >/dev/null 2>&1 || die "$BASE_TAG still missing after testdata/fixtures/build.sh"
fi

rm -f "$CACHE/large.key"
mkdir -p "$CACHE/ctx" "$CACHE/logs"
printf '%s' "$DOCKERFILE" >"$CACHE/ctx/Dockerfile"

start=$SECONDS
log "docker build -> $TAG (log: $CACHE/logs/large-build.log)"
if ! docker build --network host --force-rm -t "$TAG" "$CACHE/ctx" >"$CACHE/logs/large-build.log" 2>&1; then
	tail -n 40 "$CACHE/logs/large-build.log" >&2 || true
	die "docker build of $TAG failed"
fi
log "docker save -> $CACHE/large.tar"
rm -f "$CACHE/large.tar.tmp"
docker save -o "$CACHE/large.tar.tmp" "$TAG" || die "docker save $TAG failed"
mv -f "$CACHE/large.tar.tmp" "$CACHE/large.tar"
echo "$KEY" >"$CACHE/large.key"
log "built in $((SECONDS - start))s: $CACHE/large.tar ($(du -h "$CACHE/large.tar" | cut -f1), image $(docker image inspect -f '{{.Size}}' "$TAG") bytes)"
make_gzip_variant
