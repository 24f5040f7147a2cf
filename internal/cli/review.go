package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// newServerReview is shipshape server review: GET /api/v1/review, written
// to stdout or a file.
func newServerReview(f *apiFlags) *cobra.Command {
	var since, format, out string
	cmd := &cobra.Command{Use: "review", Short: "The quarterly review: production images then and now, retirements, next quarter's expiries, exceptions granted", Args: argsNone,
		Long: "review prints the review a platform team signs off each quarter: every image in production (approved or expiring) with its verdict at --since and now, what was retired or revoked since and why, what expires in the next three months (approvals and exceptions), and the exceptions granted since and by whom.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			formats := []string{"markdown", "html", "csv", "json"}
			if !slices.Contains(formats, format) {
				return usageError{fmt.Errorf("--format: want %s, got %q", strings.Join(formats, ", "), format)}
			}
			q := url.Values{"format": {format}}
			if since != "" {
				if _, err := time.Parse(time.DateOnly, since); err != nil {
					return usageError{fmt.Errorf("--since: want a date like 2026-10-01, got %q", since)}
				}
				q.Set("since", since)
			}
			api := *f
			api.format = "text"
			c, err := api.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if _, err := c.Do(cmd.Context(), "GET", "/api/v1/review", q, nil, &raw); err != nil {
				return apiError(err)
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				fh, err := os.Create(out)
				if err != nil {
					return usageError{fmt.Errorf("-o: %w", err)}
				}
				defer fh.Close()
				w = fh
			}
			if _, err := w.Write(raw); err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "review written to %s\n", out)
			}
			return nil
		}}
	cmd.Flags().StringVar(&since, "since", "", "start of the period, a date like 2026-10-01 (default: the first day of the current quarter)")
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown, html, csv or json")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// newServerDeliveries is shipshape server deliveries: GET /api/v1/deliveries.
func newServerDeliveries(f *apiFlags) *cobra.Command {
	var webhook, event, status string
	var limit int
	cmd := &cobra.Command{Use: "deliveries", Short: "Webhook deliveries, newest first, with every attempt", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {fmt.Sprint(limit)}}
			for k, v := range map[string]string{"webhook": webhook, "event": event, "status": status} {
				if v != "" {
					q.Set(k, v)
				}
			}
			return call(cmd, *f, "GET", "/api/v1/deliveries", q, nil, func(w io.Writer, raw json.RawMessage) error {
				var r struct {
					Deliveries []struct {
						JobID                  int64 `json:"job_id"`
						Webhook, Event, Status string
						Digest                 string
						Exception              int64
						Attempts               []struct {
							Attempt    int
							At         time.Time
							OK         bool
							StatusCode int `json:"status_code"`
							Error      string
						}
					} `json:"deliveries"`
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "JOB\tWEBHOOK\tEVENT\tSUBJECT\tSTATUS\tATTEMPTS")
				for _, d := range r.Deliveries {
					subject := d.Digest
					if d.Exception != 0 {
						subject = fmt.Sprintf("exception/%d", d.Exception)
					}
					var as []string
					for _, a := range d.Attempts {
						s := fmt.Sprint(a.StatusCode)
						if a.StatusCode == 0 {
							s = a.Error
						}
						as = append(as, fmt.Sprintf("#%d %s", a.Attempt, s))
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.JobID, d.Webhook, d.Event, subject, d.Status, orDash(strings.Join(as, ", ")))
				}
				return tw.Flush()
			})
		}}
	cmd.Flags().StringVar(&webhook, "webhook", "", "only deliveries to this webhook")
	cmd.Flags().StringVar(&event, "event", "", "only this event (approved, veto, expiring, retired, revoked, exception-expiring)")
	cmd.Flags().StringVar(&status, "status", "", "only this status (delivered, pending, retrying, failed, cancelled)")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many")
	return cmd
}
