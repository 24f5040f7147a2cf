package checks

import (
	"fmt"

	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// cmp006 is the check CMP-006.
func cmp006() Check {
	return define(Meta{
		ID:          "CMP-006",
		Dimension:   Compliance,
		Title:       "No sensitive files, in any layer",
		Severity:    High,
		Description: "Files that are credentials by their name or type, in every layer, including versions a later layer deletes or overwrites (they stay recoverable): private key files (id_rsa, .ppk, GnuPG keys), SSH host keys shipped in the image (every container shares them), .env files, cloud and cluster credentials (.aws/credentials, gcloud, Azure, .kube/config), registry and package-manager auth files (.docker/config.json, .npmrc, .pypirc, .netrc, .git-credentials, pip.conf), database password files (.pgpass, .my.cnf), shell and REPL history, .git directories, keystores (.jks, .p12, .pfx, .keystore) and Terraform state. Files that an OS package installed outside /etc are the distribution's (cmake ships a template .pfx) and are not reported.",
		Remediation: "Keep these files out of the build context (.dockerignore) and out of every layer: mount them at build time (`RUN --mount=type=secret` or `--mount=type=ssh`), generate host keys when the container starts, and copy only build outputs into the final stage. A file deleted by a later layer is still in the image.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Inv == nil {
			return nil, Skip("no inventory")
		}
		var out []Finding
		for _, f := range s.Inv.Secrets.Files {
			if f.Category != secrets.Sensitive || f.Current && s.fromDistribution(f.Path) {
				continue
			}
			ev := s.InLayer(f.Path, f.Layer)
			if f.Size > 0 {
				ev.Value = fmt.Sprintf("%d bytes", f.Size)
			}
			title := fmt.Sprintf("%s %s", f.What, s.where(f.Path, f.Layer, f.Current, f.RemovedBy))
			if !f.Current {
				title = "Recoverable: " + title
			}
			out = append(out, Finding{Severity: High, Title: title, Evidence: []Evidence{ev}})
		}
		return out, nil
	})
}
