package cli

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/netguard"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// supplyFlags tune the supply-chain checks (SEC-031, SEC-032, MNT-007).
type supplyFlags struct {
	// network is --network: default, or none (no connection at all).
	network  string
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
	fl.StringVar(&f.network, "network", netguard.Default, "shipshape's own connections: default (the registry of a registry reference; the forge for MNT-007 unless --offline; each host named on stderr), or none: no connection at all")
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
	g := netguard.From(cmd.Context())
	if g.None() {
		o.Offline = "--network=none"
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: g.Transport(nil, "the source forge, for upstream maintenance (MNT-007); --offline asks it nothing")}
	c, err := forge.New(forge.Options{BaseURL: f.forgeURL, Token: os.Getenv("GITHUB_TOKEN"), CacheDir: dir, TTL: f.ttl, Offline: f.offline || g.None(), HTTP: hc})
	if err != nil {
		return nil, usageError{fmt.Errorf("--forge-url: %w", err)}
	}
	o.Forge = c
	return o, nil
}

// startGuard reads --network (when the command has it) and puts the run's
// network guard in the command's context: every registry and forge client
// goes through it, and it names each host contacted on stderr, once.
func startGuard(cmd *cobra.Command) error {
	mode := netguard.Default
	if fl := cmd.Flags().Lookup("network"); fl != nil {
		m, err := netguard.ParseMode(fl.Value.String())
		if err != nil {
			return usageError{fmt.Errorf("--network: %w (the probed container's network mode is --container-network)", err)}
		}
		mode = m
	}
	stderr := cmd.ErrOrStderr()
	g := netguard.New(mode, func(host, why string) {
		fmt.Fprintf(stderr, "shipshape: network: contacting %s: %s (--network=none: no connection at all)\n", host, why)
	})
	cmd.SetContext(netguard.With(cmd.Context(), g))
	return nil
}

// sourceOptions are how the CLI opens an image outside the engine (the
// platforms of an index, a probe's baseline): through the run's guard.
func sourceOptions(cmd *cobra.Command) source.Options {
	g := netguard.From(cmd.Context())
	return source.Options{TempDir: os.TempDir(), NoNetwork: g.None(), Remote: registryOptions(cmd)}
}

// registryOptions are the registry client's options: the Docker config's
// credentials, through the run's guard.
func registryOptions(cmd *cobra.Command) []remote.Option {
	g := netguard.From(cmd.Context())
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(g.Transport(remote.DefaultTransport, "the image registry"))}
}
