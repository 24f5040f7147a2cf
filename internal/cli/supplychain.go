package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// supplyFlags tune the supply-chain checks (SEC-031, SEC-032, MNT-007).
type supplyFlags struct {
	offline  bool
	forgeURL string
	cacheDir string
	ttl      time.Duration
}

// envTrue reads a boolean environment variable.
func envTrue(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// addSupplyFlags adds the flags of commands that judge images.
func addSupplyFlags(fl *pflag.FlagSet, f *supplyFlags) {
	def := os.Getenv("SHIPSHAPE_FORGE_URL")
	if def == "" {
		def = forge.DefaultGitHubAPI
	}
	fl.BoolVar(&f.offline, "offline", envTrue("SHIPSHAPE_OFFLINE"), "do not ask the source forge about upstream maintenance (MNT-007 uses cached answers, else says what it could not check)")
	fl.StringVar(&f.forgeURL, "forge-url", def, "GitHub REST API for upstream maintenance (GitHub Enterprise: https://HOST/api/v3/; token from GITHUB_TOKEN)")
	fl.StringVar(&f.cacheDir, "forge-cache-dir", "", "`DIR` of cached forge answers (default $XDG_CACHE_HOME/shipshape/forge)")
	fl.DurationVar(&f.ttl, "forge-ttl", forge.DefaultTTL, "how long a cached forge answer is used before asking again")
}

// supplyOptions builds how the supply-chain evidence is gathered. Commands
// without the flags (diff, probe) follow the environment.
func supplyOptions(cmd *cobra.Command, f supplyFlags) (*supplychain.Options, error) {
	if cmd.Flags().Lookup("offline") == nil {
		f = supplyFlags{offline: envTrue("SHIPSHAPE_OFFLINE"), forgeURL: os.Getenv("SHIPSHAPE_FORGE_URL"), ttl: forge.DefaultTTL}
	}
	o := &supplychain.Options{}
	if envTrue("DOCKER_CONTENT_TRUST") {
		o.ContentTrust = "Docker Content Trust is enabled (DOCKER_CONTENT_TRUST=1): the engine checks Notary v1 signatures on pull; shipshape verifies cosign signatures only"
	}
	dir := f.cacheDir
	if dir == "" {
		d, err := forge.DefaultCacheDir()
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "shipshape: warning: %v; forge answers are not cached\n", err)
		}
		dir = d
	}
	c, err := forge.New(forge.Options{BaseURL: f.forgeURL, Token: os.Getenv("GITHUB_TOKEN"), CacheDir: dir, TTL: f.ttl, Offline: f.offline})
	if err != nil {
		return nil, usageError{fmt.Errorf("--forge-url: %w", err)}
	}
	o.Forge = c
	return o, nil
}
