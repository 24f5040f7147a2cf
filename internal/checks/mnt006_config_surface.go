package checks

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
)

// standardEnv are variables every image has; they say nothing about configuration.
var standardEnv = map[string]bool{"PATH": true, "HOME": true, "HOSTNAME": true, "TERM": true, "LANG": true, "LC_ALL": true, "SSL_CERT_FILE": true, "DEBIAN_FRONTEND": true}

var hostInValue = regexp.MustCompile(`\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\b`)

// mnt006 is the check MNT-006.
func mnt006() Check {
	return define(Meta{
		ID:          "MNT-006",
		Dimension:   Maintainability,
		Title:       "Configuration surface",
		Severity:    Info,
		Description: "Lists what can be configured without rebuilding: ENV keys, whether an exec-form ENTRYPOINT accepts arguments through CMD; flags hard-coded IP addresses in ENV (low), which tie the image to one environment.",
		Remediation: "Take addresses from configuration at run time (ENV set by the deployment, or a config file), not baked into the image.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Config == nil {
			return nil, Skip("no config")
		}
		c := s.Config.Config
		var keys []string
		var out []Finding
		for _, e := range c.Env {
			k, v, _ := strings.Cut(e, "=")
			if !standardEnv[k] {
				keys = append(keys, k)
			}
			for _, m := range hostInValue.FindAllString(v, -1) {
				if ip := net.ParseIP(m); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
					out = append(out, Finding{Severity: Low, Title: fmt.Sprintf("ENV %s hard-codes the address %s", k, m), Evidence: []Evidence{field("Config.Env", k+"="+v)}})
				}
			}
		}
		sort.Strings(keys)
		args := "no ENTRYPOINT: CMD replaces the whole command"
		if len(c.Entrypoint) == 0 && len(c.Cmd) == 0 {
			args = "no ENTRYPOINT or CMD: the command is given at run time"
		} else if len(c.Entrypoint) > 0 && !isShellForm(c.Entrypoint) {
			args = "exec-form ENTRYPOINT: arguments can be passed"
		} else if len(c.Entrypoint) > 0 {
			args = "shell-form ENTRYPOINT: arguments are ignored"
		}
		out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("%d configurable ENV keys; %s", len(keys), args),
			Evidence: []Evidence{field("Config.Env", strings.Join(keys, " "))}})
		return out, nil
	})
}
