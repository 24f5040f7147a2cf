package engine

import (
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// configSummary copies the runtime-relevant config into the report, with
// ENV values left out and secret-looking label values masked.
func configSummary(cf *v1.ConfigFile) report.Config {
	if cf == nil {
		return report.Config{}
	}
	c := cf.Config
	out := report.Config{User: c.User, Entrypoint: append([]string(nil), c.Entrypoint...), Cmd: append([]string(nil), c.Cmd...), WorkingDir: c.WorkingDir, StopSignal: c.StopSignal}
	for _, e := range c.Env {
		k, _, _ := strings.Cut(e, "=")
		out.EnvKeys = append(out.EnvKeys, k)
	}
	for p := range c.ExposedPorts {
		out.ExposedPorts = append(out.ExposedPorts, p)
	}
	sort.Strings(out.ExposedPorts)
	for v := range c.Volumes {
		out.Volumes = append(out.Volumes, v)
	}
	sort.Strings(out.Volumes)
	if c.Healthcheck != nil {
		out.Healthcheck = c.Healthcheck.Test
	}
	if len(c.Labels) > 0 {
		out.Labels = map[string]string{}
		for k, v := range c.Labels {
			out.Labels[k] = checks.MaskIfSecret(k, v)
		}
	}
	for i, a := range out.Entrypoint {
		out.Entrypoint[i] = checks.Redact(a)
	}
	for i, a := range out.Cmd {
		out.Cmd[i] = checks.Redact(a)
	}
	return out
}
