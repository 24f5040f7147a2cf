package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/client"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/fleet"
)

func init() { extraCommands = append(extraCommands, newSubmit, newServerCmd) }

// apiFlags are the flags of the commands that call shipshape serve.
type apiFlags struct {
	server string
	token  string
	format string
}

func addAPIFlags(cmd *cobra.Command, f *apiFlags) {
	cmd.PersistentFlags().StringVar(&f.server, "server", os.Getenv("SHIPSHAPE_SERVER"), "URL of shipshape serve (env SHIPSHAPE_SERVER)")
	cmd.PersistentFlags().StringVar(&f.token, "token", "", "API token (default: env SHIPSHAPE_TOKEN; create one with shipshape serve token create)")
	cmd.PersistentFlags().StringVar(&f.format, "format", "text", "output: text or json")
}

func (f apiFlags) client() (*client.Client, error) {
	tok := f.token
	if tok == "" {
		tok = os.Getenv("SHIPSHAPE_TOKEN")
	}
	if f.format != "text" && f.format != "json" {
		return nil, usageError{fmt.Errorf("--format: want text or json, got %q", f.format)}
	}
	c, err := client.New(f.server, tok)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// apiError turns a client error into the CLI's exit codes: the server
// refusing the request is an input error (2), anything else internal.
func apiError(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status < 500 {
		return usageError{err}
	}
	if err != nil && strings.HasPrefix(err.Error(), "calling ") {
		return usageError{err}
	}
	return err
}

type submitFlags struct {
	imageFlags
	apiFlags
	wait      time.Duration
	factsFile string
	ref       string
}

func newSubmit() *cobra.Command {
	var f submitFlags
	cmd := &cobra.Command{
		Use:   "submit IMAGE",
		Short: "Submit an image to shipshape serve: judged, stored, approved on PASS; exits 1 when it fails",
		Long: "submit sends an image to shipshape serve. A registry reference is read by the service itself; a local image (docker-archive:, oci:, docker-daemon:, a file) is observed here and its facts are sent. --facts sends facts written by shipshape observe (with --probe results when the image was run).\n\n" +
			"Exit codes: 0 the image passes, 1 it fails the policy, 2 usage or input error (including the server refusing the request), 3 internal error.",
		Args: func(cmd *cobra.Command, args []string) error {
			if f.factsFile != "" && len(args) == 0 {
				return nil
			}
			return argsExactly(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSubmit(cmd, args, f) },
	}
	addAPIFlags(cmd, &f.apiFlags)
	cmd.Flags().DurationVar(&f.wait, "wait", 10*time.Minute, "how long to wait for the service's verdict (0: queue and return)")
	cmd.Flags().StringVar(&f.factsFile, "facts", "", "send the facts in this file (from shipshape observe) instead of an image")
	cmd.Flags().StringVar(&f.ref, "ref", "", "the reference the image will be deployed as, when it is read from a file")
	addImageFlags(cmd.Flags(), &f.imageFlags, false)
	return cmd
}

// isRemote says whether input names a registry image (as opposed to a file,
// a layout or the Docker engine).
func isRemote(input string) bool {
	for _, p := range []string{"docker-archive:", "oci:", "oci-archive:", "docker-daemon:"} {
		if strings.HasPrefix(input, p) {
			return false
		}
	}
	if strings.HasPrefix(input, "registry:") || strings.HasPrefix(input, "docker://") {
		return true
	}
	_, err := os.Stat(input)
	return err != nil
}

func runSubmit(cmd *cobra.Command, args []string, f submitFlags) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	var body map[string]any
	switch {
	case f.factsFile != "":
		fs, err := readFactsFile(f.factsFile)
		if err != nil {
			return err
		}
		body, err = factsBody(fs)
		if err != nil {
			return err
		}
	case isRemote(args[0]):
		ref := strings.TrimPrefix(strings.TrimPrefix(args[0], "registry:"), "docker://")
		body = map[string]any{"image": ref}
	default:
		eng, closeEng, err := f.newEngine(cmd, false)
		if err != nil {
			return err
		}
		defer closeEng()
		o, err := f.observeOptions(cmd, nil, f.ref)
		if err != nil {
			return err
		}
		fs, err := eng.Observe(cmd.Context(), args[0], o)
		if err != nil {
			return err
		}
		if body, err = factsBody(fs); err != nil {
			return err
		}
	}
	q := url.Values{}
	if f.wait > 0 {
		q.Set("wait", f.wait.String())
	}
	var resp struct {
		Job *struct {
			ID     int64    `json:"id"`
			State  string   `json:"state"`
			Errors []string `json:"errors"`
		} `json:"job"`
		Evaluation *fleet.Evaluation `json:"evaluation"`
	}
	var raw json.RawMessage
	status, err := c.Do(cmd.Context(), "POST", "/api/v1/images", q, body, &raw)
	if err != nil {
		return apiError(err)
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	out := cmd.OutOrStdout()
	if f.format == "json" {
		out.Write(raw)
	}
	switch {
	case status == 422 && resp.Job != nil:
		return fmt.Errorf("the service could not judge the image (job %d): %s", resp.Job.ID, strings.Join(resp.Job.Errors, "; "))
	case resp.Evaluation == nil && resp.Job != nil:
		if f.format == "text" {
			fmt.Fprintf(out, "queued as job %d (%s): follow it with shipshape server job %d\n", resp.Job.ID, resp.Job.State, resp.Job.ID)
		}
		return nil
	case resp.Evaluation == nil:
		return errors.New("the service answered without an evaluation")
	}
	ev := resp.Evaluation
	if f.format == "text" {
		fmt.Fprintf(out, "%s  %s  grade %s, score %d/100\n", ev.Verdict, ev.Digest, ev.Grade, ev.Score)
		fmt.Fprintf(out, "image     %s\n", strings.TrimSuffix(ev.Repository+":"+ev.Tag, ":"))
		state := ev.State
		if ev.Previous != "" && ev.Previous != ev.State {
			state = ev.Previous + " -> " + ev.State
		}
		fmt.Fprintf(out, "approval  %s\n", state)
		for _, fl := range ev.Failing {
			fmt.Fprintf(out, "  fails   %s\n", fl)
		}
		if len(ev.New)+len(ev.Resolved) > 0 {
			fmt.Fprintf(out, "findings  %d new, %d resolved since the last evaluation\n", len(ev.New), len(ev.Resolved))
		}
	}
	if !ev.Pass {
		return policyFailure
	}
	return nil
}

// factsBody is the submission of facts.
func factsBody(fs *facts.Facts) (map[string]any, error) {
	var buf bytes.Buffer
	if err := facts.Write(&buf, fs); err != nil {
		return nil, err
	}
	return map[string]any{"facts": json.RawMessage(buf.Bytes())}, nil
}
