# shipshape: judge whether a container image is fit to run in production.
GO       ?= go
BIN      ?= bin/shipshape
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/shipshape-dev/shipshape/internal/cli.version=$(VERSION)

.PHONY: build demo image test test-go fixtures docs vet fuzz bench clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shipshape

# The main job on any machine, no registry and no Docker needed: build
# shipshape, write a small demo image as an OCI layout, judge it. The
# advisory database comes from `shipshape db import` of the offline OSV
# exports beside the repository when there are some (or from an earlier
# `shipshape db update`); without any, vulnerabilities are skipped, and said so.
OSV_DATA ?= ../shared/data/osv
demo: build
	$(GO) run ./tools/demoimage -o build/demo -tag 1.0.0
	@if $(BIN) db status | grep -q '^vulnerability database: none' && [ -d $(OSV_DATA) ]; then \
		echo "importing the OSV advisories in $(OSV_DATA)"; $(BIN) db import $(OSV_DATA) 2>/dev/null; fi
	@if $(BIN) db status | grep -q '^vulnerability database: none'; then \
		echo "no advisory database: judging without vulnerabilities (run shipshape db update)"; \
		$(BIN) check --offline --skip-vulns oci:build/demo:1.0.0; \
	else $(BIN) check --offline oci:build/demo:1.0.0; fi

# shipshape's own image, reproducibly (same source, same digest; timestamps are
# SOURCE_DATE_EPOCH, by default the last commit's): a static binary on an empty
# base, user 65532:65532, OCI labels, a HEALTHCHECK without a shell. Writes a
# docker-archive (docker load -i build/shipshape-image.tar) and prints its digest.
image:
	$(GO) run ./tools/selfimage -o build/shipshape-image.tar

# Fixture images from real Debian packages (needs a Docker engine; cached).
fixtures:
	testdata/fixtures/build.sh
	testdata/fixtures/bullseye.sh

# The whole test suite on a fresh machine: installs and starts what the
# tests need (Docker engine, PostgreSQL, a Kubernetes API server, cosign,
# fixtures; see tools/ci/test.sh), then go vet and go test. CI runs this.
test:
	GO=$(GO) tools/ci/test.sh

# Only go vet and go test, when test has set the machine up once.
test-go:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

docs:
	$(GO) run ./cmd/shipshape docs checks > docs/checks.md

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzWalk -fuzztime=60s ./internal/imagefs/
	$(GO) test -run='^$$' -fuzz=FuzzParseDpkgStatus -fuzztime=30s ./internal/analyzer/
	$(GO) test -run='^$$' -fuzz=FuzzParseELFHead -fuzztime=30s ./internal/analyzer/
	$(GO) test -run='^$$' -fuzz=FuzzParseRecord -fuzztime=45s ./internal/vulndb/
	$(GO) test -run='^$$' -fuzz=FuzzRange -fuzztime=45s ./internal/vulndb/
	$(GO) test -run='^$$' -fuzz=FuzzCodec -fuzztime=30s ./internal/vulndb/
	$(GO) test -run='^$$' -fuzz=FuzzRequestBodies -fuzztime=30s ./internal/server/

bench:
	bench/large-image.sh && bench/check.sh

clean:
	rm -rf bin build
