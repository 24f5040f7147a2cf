package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// newServerCmd wraps the shipshape serve API for people and scripts.
func newServerCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Query and steer shipshape serve: images, approvals, exceptions, the audit log, jobs",
		Args:  argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("say what to do: shipshape server images|image|allowed|approve|reject|revoke|reevaluate|exceptions|events|jobs|job|sweep (see --help)")}
		},
	}
	addAPIFlags(cmd, &f)
	var state, repo, check, advisory string
	var limit int
	images := &cobra.Command{Use: "images", Short: "List images with their approval state and latest verdict", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"state": state, "repository": repo, "check": check, "advisory": advisory} {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("limit", fmt.Sprint(limit))
			return call(cmd, f, "GET", "/api/v1/images", q, nil, func(w io.Writer, raw json.RawMessage) error {
				var r struct {
					Total  int `json:"total"`
					Images []struct {
						Digest, Repository, Tag, State, Verdict, Grade string
						Score                                          int
					} `json:"images"`
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DIGEST\tIMAGE\tSTATE\tVERDICT\tGRADE")
				for _, im := range r.Images {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", im.Digest, strings.TrimSuffix(im.Repository+":"+im.Tag, ":"), orDash(im.State), orDash(im.Verdict), orDash(im.Grade))
				}
				tw.Flush()
				fmt.Fprintf(w, "%d of %d images\n", len(r.Images), r.Total)
				return nil
			})
		}}
	images.Flags().StringVar(&state, "state", "", "only images in this approval state (pending, approved, rejected, expiring, retired, revoked, none)")
	images.Flags().StringVar(&repo, "repository", "", "only images of this repository")
	images.Flags().StringVar(&check, "check", "", "only images whose latest evaluation has a finding of this check")
	images.Flags().StringVar(&advisory, "advisory", "", "only images whose latest evaluation has this advisory")
	images.Flags().IntVar(&limit, "limit", 50, "at most this many images")

	image := &cobra.Command{Use: "image DIGEST", Short: "One image: approval, evaluations, what changed", Args: argsExactly(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, f, "GET", "/api/v1/images/"+url.PathEscape(args[0]), nil, nil, func(w io.Writer, raw json.RawMessage) error {
				var r struct {
					Image struct {
						Digest, Repository, Tag, Verdict, Grade string
					} `json:"image"`
					Approval *struct {
						State, Actor, Reason, Signer string
						ValidUntil                   time.Time `json:"valid_until"`
					} `json:"approval"`
					Evaluations []struct {
						ID          int64
						Verdict     string
						Grade       string
						EvaluatedAt time.Time `json:"evaluated_at"`
					} `json:"evaluations"`
					Diff struct {
						New, Resolved []struct{ Check, Advisory, Severity string }
					} `json:"diff"`
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				fmt.Fprintf(w, "%s  %s\n", r.Image.Digest, strings.TrimSuffix(r.Image.Repository+":"+r.Image.Tag, ":"))
				if a := r.Approval; a != nil {
					fmt.Fprintf(w, "approval  %s by %s: %s\n", a.State, a.Actor, a.Reason)
					if !a.ValidUntil.IsZero() {
						fmt.Fprintf(w, "          valid until %s\n", a.ValidUntil.Format(time.RFC3339))
					}
					if a.Signer != "" {
						fmt.Fprintf(w, "          signed by %s\n", a.Signer)
					}
				} else {
					fmt.Fprintln(w, "approval  none")
				}
				for _, e := range r.Evaluations {
					fmt.Fprintf(w, "evaluation %d  %s  grade %s  %s\n", e.ID, e.Verdict, e.Grade, e.EvaluatedAt.Format(time.RFC3339))
				}
				for _, d := range r.Diff.New {
					fmt.Fprintf(w, "  new       %s %s %s\n", d.Severity, d.Check, d.Advisory)
				}
				for _, d := range r.Diff.Resolved {
					fmt.Fprintf(w, "  resolved  %s %s %s\n", d.Severity, d.Check, d.Advisory)
				}
				return nil
			})
		}}

	allowed := &cobra.Command{Use: "allowed IMAGE", Short: "May IMAGE be deployed? Exits 0 when allowed, 1 when not (a CI gate)", Args: argsExactly(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ok bool
			err := call(cmd, f, "GET", "/api/v1/allowed", url.Values{"image": {args[0]}}, nil, func(w io.Writer, raw json.RawMessage) error {
				var r struct {
					Allowed               bool
					Digest, State, Reason string
					FailingChecks         []string `json:"failing_checks"`
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				ok = r.Allowed
				word := "DENIED"
				if r.Allowed {
					word = "ALLOWED"
				}
				fmt.Fprintf(w, "%s  %s (%s)\n%s\n", word, args[0], r.State, r.Reason)
				for _, c := range r.FailingChecks {
					fmt.Fprintf(w, "  fails  %s\n", c)
				}
				return nil
			}, func(raw json.RawMessage) {
				var r struct{ Allowed bool }
				_ = json.Unmarshal(raw, &r)
				ok = r.Allowed
			})
			if err == nil && !ok {
				return policyFailure
			}
			return err
		}}

	decisions := []*cobra.Command{}
	for _, d := range []struct{ verb, short string }{
		{"approve", "Approve an image (--force to approve one that fails, with --reason)"},
		{"reject", "Reject a pending image"},
		{"revoke", "Revoke an image's approval (--reason required)"},
	} {
		var reason string
		var force bool
		c := &cobra.Command{Use: d.verb + " DIGEST", Short: d.short, Args: argsExactly(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				body := map[string]any{"reason": reason}
				if force {
					body["force"] = true
				}
				return call(cmd, f, "POST", "/api/v1/images/"+url.PathEscape(args[0])+"/"+d.verb, nil, body, func(w io.Writer, raw json.RawMessage) error {
					var a struct{ State, Actor, Reason string }
					if err := json.Unmarshal(raw, &a); err != nil {
						return err
					}
					fmt.Fprintf(w, "%s: %s by %s (%s)\n", args[0], a.State, a.Actor, a.Reason)
					return nil
				})
			}}
		c.Flags().StringVar(&reason, "reason", "", "why (kept in the audit log)")
		if d.verb == "approve" {
			c.Flags().BoolVar(&force, "force", false, "approve even though the latest evaluation fails (needs --reason)")
		}
		decisions = append(decisions, c)
	}
	var wait time.Duration
	reeval := &cobra.Command{Use: "reevaluate DIGEST", Short: "Judge an image's stored facts again now", Args: argsExactly(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, f, "POST", "/api/v1/images/"+url.PathEscape(args[0])+"/reevaluate", url.Values{"wait": {wait.String()}}, nil, printJSON)
		}}
	reeval.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for the result")

	exceptions := &cobra.Command{Use: "exceptions", Short: "List, create and delete exceptions", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, f, "GET", "/api/v1/exceptions", nil, nil, printJSON)
		}}
	var ex struct {
		check, advisory, image, repository, owner, reason string
		expires                                           time.Duration
	}
	exCreate := &cobra.Command{Use: "create", Short: "Create an exception (images it may waive findings of are judged again)", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"check": ex.check, "advisory": ex.advisory, "image": ex.image, "repository": ex.repository, "owner": ex.owner, "reason": ex.reason}
			if ex.expires > 0 {
				body["expires_at"] = time.Now().Add(ex.expires).UTC().Format(time.RFC3339)
			}
			return call(cmd, f, "POST", "/api/v1/exceptions", nil, body, printJSON)
		}}
	exCreate.Flags().StringVar(&ex.check, "check", "", "the check it waives (e.g. SEC-020)")
	exCreate.Flags().StringVar(&ex.advisory, "advisory", "", "the advisory it waives (CVE-..., GHSA-...)")
	exCreate.Flags().StringVar(&ex.image, "image", "", "image digest or reference pattern it applies to")
	exCreate.Flags().StringVar(&ex.repository, "repository", "", "repository pattern it applies to (team/*, or team/** for everything below)")
	exCreate.Flags().StringVar(&ex.owner, "owner", "", "who answers for it")
	exCreate.Flags().StringVar(&ex.reason, "reason", "", "why it is acceptable")
	exCreate.Flags().DurationVar(&ex.expires, "expires-in", 30*24*time.Hour, "how long it lasts (0: until deleted)")
	exDelete := &cobra.Command{Use: "delete ID", Short: "Delete an exception", Args: argsExactly(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, f, "DELETE", "/api/v1/exceptions/"+url.PathEscape(args[0]), nil, nil, printJSON)
		}}
	exceptions.AddCommand(exCreate, exDelete)

	var subject string
	events := &cobra.Command{Use: "events", Short: "The audit log, newest first", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {fmt.Sprint(limit)}}
			if subject != "" {
				q.Set("subject", subject)
			}
			return call(cmd, f, "GET", "/api/v1/events", q, nil, func(w io.Writer, raw json.RawMessage) error {
				var r struct {
					Events []struct {
						ID                     int64
						At                     time.Time
						Actor, Action, Subject string
					}
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				for _, e := range r.Events {
					fmt.Fprintf(w, "%d  %s  %-10s %-22s %s\n", e.ID, e.At.Format(time.RFC3339), e.Actor, e.Action, e.Subject)
				}
				return nil
			})
		}}
	events.Flags().StringVar(&subject, "subject", "", "only events about this digest or object")
	events.Flags().IntVar(&limit, "limit", 50, "at most this many events")

	var jobState string
	jobs := &cobra.Command{Use: "jobs", Short: "Jobs, newest first; failed ones with their errors", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if jobState != "" {
				q.Set("state", jobState)
			}
			return call(cmd, f, "GET", "/api/v1/jobs", q, nil, printJSON)
		}}
	jobs.Flags().StringVar(&jobState, "state", "", "only jobs in these states (e.g. discarded,retryable)")
	job := &cobra.Command{Use: "job ID", Short: "One job", Args: argsExactly(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, f, "GET", "/api/v1/jobs/"+url.PathEscape(args[0]), nil, nil, printJSON)
		}}
	sweep := &cobra.Command{Use: "sweep", Short: "Run the re-evaluation sweep now (admin)", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, f, "POST", "/api/v1/sweep", nil, nil, printJSON)
		}}
	cmd.AddCommand(images, image, allowed, reeval, exceptions, events, jobs, job, sweep)
	cmd.AddCommand(decisions...)
	cmd.AddCommand(newServerReview(&f), newServerDeliveries(&f))
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printJSON(w io.Writer, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// call sends one request and prints the answer: as JSON with --format json,
// else through text. onJSON, when given, also sees the answer in JSON mode.
func call(cmd *cobra.Command, f apiFlags, method, path string, q url.Values, body any, text func(io.Writer, json.RawMessage) error, onJSON ...func(json.RawMessage)) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if _, err := c.Do(cmd.Context(), method, path, q, body, &raw); err != nil {
		return apiError(err)
	}
	if f.format == "json" {
		for _, fn := range onJSON {
			fn(raw)
		}
		return printJSON(cmd.OutOrStdout(), raw)
	}
	return text(cmd.OutOrStdout(), raw)
}
