package checks

import (
	"fmt"
	"path"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// lesserBackdoors are indicators that are often legitimate: high, not critical.
var lesserBackdoors = map[string]bool{
	"cron-entry":                   true,
	"cron-script":                  true,
	"sshd-password-authentication": true,
}

// cmp007 is the check CMP-007.
func cmp007() Check {
	return define(Meta{
		ID:          "CMP-007",
		Dimension:   Compliance,
		Title:       "No backdoor indicators",
		Severity:    Critical,
		Veto:        true,
		Description: "Ways into a running container that an image should not ship, in the final filesystem: SSH authorized_keys anywhere, sshd_config with PermitRootLogin yes, PasswordAuthentication yes or PermitEmptyPasswords yes, sudoers granting NOPASSWD: ALL, setuid or setgid copies of a shell, a password set for root in /etc/shadow, cron entries and periodic cron jobs not installed by an OS package, reverse-shell patterns in scripts (bash -i >& /dev/tcp/..., nc -e, socat exec:, mkfifo pipes, Python and Perl one-liners), mining-pool URLs and known miner binaries by name; an SSH server as the container's command (sshd in ENTRYPOINT/CMD, also in a shell-form line) or `EXPOSE 22` (high). Critical indicators are a veto in the default policy; cron jobs and sshd's PasswordAuthentication, often legitimate, are high and not a veto.",
		Remediation: "Remove it and rebuild; if you did not put it there, treat the image (and the build machine) as compromised. Containers are entered with `docker exec`/`kubectl exec`, not SSH; schedule jobs with the orchestrator, not cron in the image.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Inv == nil {
			return nil, Skip("no inventory")
		}
		var out []Finding
		owned := func(p string) bool {
			_, ok := s.Inv.Owner(p)
			return ok
		}
		for _, h := range s.Inv.Secrets.Hits {
			if h.Kind != secrets.KindBackdoor || !h.Current {
				continue
			}
			if strings.HasPrefix(h.Rule, "cron-") && owned(h.Path) {
				continue
			}
			sev := Critical
			if lesserBackdoors[h.Rule] {
				sev = High
			}
			ev := secretEvidence(s, h)
			out = append(out, Finding{Severity: sev, Veto: sev == Critical, Title: fmt.Sprintf("%s in %s line %d", h.Description, shownPath(h.Path), h.Line), Evidence: []Evidence{ev}})
		}
		for _, f := range s.Inv.Secrets.Files {
			if f.Category != secrets.Backdoor || !f.Current {
				continue
			}
			if f.Kind == "cron-script" && owned(f.Path) {
				continue
			}
			sev := Critical
			if lesserBackdoors[f.Kind] {
				sev = High
			}
			ev := s.InLayer(f.Path, f.Layer)
			out = append(out, Finding{Severity: sev, Veto: sev == Critical, Title: fmt.Sprintf("%s: %s", f.What, shownPath(f.Path)), Evidence: []Evidence{ev}})
		}
		out = append(out, sshServerFindings(s)...)
		acc := s.Inv.Accounts
		for _, sh := range acc.Shadow {
			if sh.Name != "root" || !passwordSet(sh.Hash) {
				continue
			}
			ev := s.InLayer("/etc/shadow", acc.ShadowLayer)
			ev.Line = sh.Line
			ev.Value = "root:" + passwordKind(sh.Hash) + ":..."
			out = append(out, Finding{Severity: Critical, Veto: true, Title: "root has a password set in /etc/shadow", Evidence: []Evidence{ev},
				Remediation: "Lock the root account (`passwd -l root`, or `*` in /etc/shadow): a password baked into the image is the same in every container and can be cracked offline from the image."})
		}
		return out, nil
	})
}

// sshServerFindings reports an image that offers SSH: sshd as the command
// the container runs, or port 22 exposed. High, not a veto: an SSH bastion
// image is legitimate, an application image is not.
func sshServerFindings(s *Subject) []Finding {
	if s.Config == nil {
		return nil
	}
	var out []Finding
	argv := s.entrypoint()
	runsSSHD := false
	if len(argv) > 0 {
		runsSSHD = path.Base(argv[0]) == "sshd"
		if script, ok := shellScript(argv); ok {
			words, _ := shellCommandWords(script)
			for _, w := range words {
				runsSSHD = runsSSHD || path.Base(w) == "sshd"
			}
		}
		for _, a := range argv[1:] {
			// exec-form wrappers: tini -- /usr/sbin/sshd -D, dumb-init sshd
			if initNames[path.Base(argv[0])] && path.Base(a) == "sshd" {
				runsSSHD = true
			}
		}
	}
	if runsSSHD {
		out = append(out, Finding{Severity: High, Title: "the container runs an SSH server (sshd in ENTRYPOINT/CMD)",
			Evidence: []Evidence{field("Config.Entrypoint+Cmd", strings.Join(argv, " "))}})
	}
	for p := range s.Config.Config.ExposedPorts {
		if port, proto, _ := strings.Cut(p, "/"); port == "22" && (proto == "" || proto == "tcp") {
			out = append(out, Finding{Severity: High, Title: "EXPOSE 22: the image offers SSH",
				Evidence:    []Evidence{field("Config.ExposedPorts", p)},
				Remediation: "Remove `EXPOSE 22` and the SSH server: enter containers with `docker exec`/`kubectl exec`, copy files with `docker cp`/`kubectl cp`."})
			break
		}
	}
	return out
}

// passwordSet says whether a shadow password field holds a usable password
// (empty passwords are SEC-009's business; "!", "*" and "x" are locked).
func passwordSet(h string) bool {
	return h != "" && h != "x" && !strings.HasPrefix(h, "!") && !strings.HasPrefix(h, "*")
}

// passwordKind names the hash scheme without showing the hash.
func passwordKind(h string) string {
	switch {
	case strings.HasPrefix(h, "$y$"):
		return "$y$ (yescrypt) hash"
	case strings.HasPrefix(h, "$6$"):
		return "$6$ (SHA-512) hash"
	case strings.HasPrefix(h, "$5$"):
		return "$5$ (SHA-256) hash"
	case strings.HasPrefix(h, "$1$"):
		return "$1$ (MD5) hash"
	case strings.HasPrefix(h, "$"):
		return "hash"
	}
	return "DES or plain hash"
}
