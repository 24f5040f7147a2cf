package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newHealthcheck) }

// newHealthcheck is the HEALTHCHECK of shipshape's own image, which has no
// shell and no curl: one GET, exit 0 on a 2xx answer, 1 otherwise.
func newHealthcheck() *cobra.Command {
	var u string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when shipshape serve answers its health endpoint (the image's HEALTHCHECK)",
		Long: "healthcheck GETs --url and exits 0 on a 2xx answer, 1 otherwise. It is the HEALTHCHECK of shipshape's image, which has no shell. " +
			"An https URL on a loopback address is not verified (the check is about liveness, not identity).",
		Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return usageError{fmt.Errorf("--url: want http(s)://HOST[:PORT]/PATH, got %q", u)}
			}
			tr := &http.Transport{Proxy: nil}
			if ip := net.ParseIP(p.Hostname()); p.Scheme == "https" && (p.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // liveness of this host's own server
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return usageError{err}
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "unhealthy: %v\n", err)
				return policyFailure
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode/100 != 2 {
				fmt.Fprintf(cmd.ErrOrStderr(), "unhealthy: %s answered %s\n", u, resp.Status)
				return policyFailure
			}
			fmt.Fprintf(cmd.OutOrStdout(), "healthy: %s\n", resp.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&u, "url", "http://127.0.0.1:8080/healthz", "the health endpoint")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}
