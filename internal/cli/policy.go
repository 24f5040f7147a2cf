package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// defaultIgnoreFile is read when --ignore-file is not given and it exists.
const defaultIgnoreFile = ".shipshape-ignore.yaml"

// loadPolicy reads the policy file (or the default) and merges the exceptions file.
func loadPolicy(policyFile, ignoreFile string) (*policy.Policy, error) {
	p := policy.Default()
	if policyFile != "" {
		var err error
		if p, err = policy.LoadFile(policyFile); err != nil {
			return nil, wrapPolicyErr(err)
		}
	}
	explicit := ignoreFile != ""
	if !explicit {
		ignoreFile = defaultIgnoreFile
	}
	data, err := os.ReadFile(ignoreFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return p, nil
	case err != nil:
		return nil, usageError{fmt.Errorf("--ignore-file: %w", err)}
	}
	ex, err := policy.ParseExceptions(ignoreFile, data)
	if err != nil {
		return nil, wrapPolicyErr(err)
	}
	if err := p.AddExceptions(ignoreFile, ex); err != nil {
		return nil, err
	}
	return p, nil
}

func wrapPolicyErr(err error) error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return err
	}
	return usageError{err}
}

func init() { extraCommands = append(extraCommands, newPolicy) }

func newPolicy() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Write, validate and explain policies"}
	var force bool
	initCmd := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write the default policy, commented (to FILE or stdout)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				_, err := fmt.Fprint(cmd.OutOrStdout(), policy.DefaultYAML)
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(args[0], flags, 0o644)
			if err != nil {
				return usageError{fmt.Errorf("%w (use --force to overwrite)", err)}
			}
			if _, err := f.WriteString(policy.DefaultYAML); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	initCmd.Flags().BoolVar(&force, "force", false, "overwrite FILE")
	validate := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check policy or exception files without reading an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				data, err := os.ReadFile(a)
				if err != nil {
					return usageError{err}
				}
				p, err := policy.Parse(a, data)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (%d overrides, %d rules, %d exceptions, digest %s)\n", a, len(p.Overrides), len(p.Rules), len(p.Exceptions), p.Digest)
			}
			return nil
		},
	}
	var explainPolicy string
	explain := &cobra.Command{
		Use:   "explain CHECK-ID",
		Short: "Say what a check decides, its default severity and veto, and what the policy changes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := policy.Default()
			if explainPolicy != "" {
				var err error
				if p, err = policy.LoadFile(explainPolicy); err != nil {
					return err
				}
			}
			id := strings.ToUpper(args[0])
			var m checks.Meta
			if c, ok := checks.Lookup(id); ok {
				m = c.Meta()
			} else if r := p.Rule(id); r != nil {
				m = r.Meta()
			} else {
				return usageError{fmt.Errorf("no check %q (see docs/checks.md)", args[0])}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s  %s\n  dimension: %s\n  default severity: %s\n  can veto: %v\n\n%s\n\nFix: %s\n", m.ID, m.Title, m.Dimension, m.Severity, m.Veto, m.Description, m.Remediation)
			if ov, ok := p.Overrides[id]; ok {
				fmt.Fprintf(w, "\nThis policy (%s) overrides it:", explainPolicy)
				if ov.Disabled {
					fmt.Fprint(w, " disabled")
				}
				if ov.Severity != nil {
					fmt.Fprintf(w, " severity %s", *ov.Severity)
				}
				if ov.Veto != nil {
					fmt.Fprintf(w, " veto %v", *ov.Veto)
				}
				fmt.Fprintln(w)
			}
			return nil
		},
	}
	explain.Flags().StringVar(&explainPolicy, "policy", "", "policy `FILE` whose overrides to show")
	cmd.AddCommand(initCmd, validate, explain)
	return cmd
}

// setFailOn applies --fail-on: "veto" (only vetoes fail) or a severity.
func setFailOn(pol *policy.Policy, v string) error {
	if v == "veto" {
		pol.FailOn = nil
		return nil
	}
	sev, err := checks.ParseSeverity(v)
	if err != nil {
		return usageError{fmt.Errorf("--fail-on: %w", err)}
	}
	pol.FailOn = &sev
	return nil
}
