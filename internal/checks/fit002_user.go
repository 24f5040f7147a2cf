package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/probe"
)

// fit002 is the check FIT-002.
func fit002() Check {
	return define(Meta{
		ID:          "FIT-002",
		Dimension:   Fit,
		Title:       "Runs as non-root, and works when forced to",
		Severity:    High,
		Description: "Reads the real UID of every process of the running container from the engine, then starts the image a second time forced to `--user 65534:65534 --read-only --tmpfs /tmp`: if it still starts, stays up and becomes healthy, root can be dropped, and SEC-001's veto becomes a high finding with the flags that work.",
		Remediation: "Make the image work as an unprivileged user with a read-only root filesystem: write only under /tmp or a volume, listen on a port above 1024.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		var out []Finding
		var rootProcs []string
		for _, pr := range p.Processes {
			if pr.UID == 0 {
				rootProcs = append(rootProcs, fmt.Sprintf("pid %d %s", pr.PID, truncate(pr.Command, 60)))
			}
		}
		nr := p.NonRoot
		works := p.NonRootWorks()
		if len(rootProcs) > 0 {
			ev := []Evidence{{Field: "processes running as uid 0", Value: strings.Join(rootProcs, "; ")}}
			if works {
				out = append(out, Finding{Severity: Info, Title: "runs as root by default, but works as 65534:65534 with a read-only root filesystem (SEC-001 is downgraded)",
					Evidence:    append(ev, Evidence{Field: "flags that work", Value: strings.Join(nr.Flags, " ")}),
					Remediation: "Set `USER 65534:65534` in the image, or run it with `" + strings.Join(nr.Flags, " ") + "` (Kubernetes: runAsUser: 65534, readOnlyRootFilesystem: true)."})
			} else {
				out = append(out, Finding{Severity: High, Title: "runs as root and does not work when forced to a non-root user", Evidence: append(ev, nonRootEvidence(nr)...)})
			}
		} else if nr != nil && !works {
			out = append(out, Finding{Severity: High, Title: "does not work with a read-only root filesystem as 65534:65534", Evidence: nonRootEvidence(nr)})
		}
		if len(out) == 0 && len(p.Processes) > 0 {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("PID 1 runs as uid %d; works as 65534:65534 with a read-only root filesystem", p.Processes[0].UID)})
		}
		return out, nil
	})
}

// nonRootEvidence says how the forced non-root run failed.
func nonRootEvidence(nr *probe.NonRootRun) []Evidence {
	if nr == nil {
		return nil
	}
	st := nr.Start
	ev := []Evidence{{Field: "forced run", Value: strings.Join(nr.Flags, " ")}}
	switch {
	case !st.Started:
		ev = append(ev, Evidence{Field: "engine error", Value: st.Error})
	case st.Exited:
		ev = append(ev, Evidence{Field: "exit code", Value: fmt.Sprint(st.ExitCode)})
	case !st.Health.Healthy:
		ev = append(ev, Evidence{Field: "health (" + st.Health.Method + ")", Value: st.Health.Status})
	}
	return append(ev, logEvidence(st.LastLogs)...)
}
