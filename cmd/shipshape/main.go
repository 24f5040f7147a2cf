// Command shipshape judges whether a container image is fit to run in production.
package main

import (
	"os"

	// Trusted roots for registries when the system has none: shipshape's own
	// image is a static binary on an empty base (tools/selfimage).
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/shipshape-dev/shipshape/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
