// Command shipshape judges whether a container image is fit to run in production.
package main

import (
	"os"

	"github.com/shipshape-dev/shipshape/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
