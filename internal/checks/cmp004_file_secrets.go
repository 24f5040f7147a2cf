package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// cmp004 is the check CMP-004.
func cmp004() Check {
	return define(Meta{
		ID:          "CMP-004",
		Dimension:   Compliance,
		Title:       "No secrets in file contents, in any layer",
		Severity:    Critical,
		Veto:        true,
		Description: "Every version of every text file in every layer is scanned, including files that a later layer deletes or overwrites: those are still in the image, one `docker save` and `tar x` away from anyone who can pull it. Rules: private keys (PEM, PKCS#8, OpenSSH, PGP, PuTTY), cloud keys (AWS, GCP service accounts, Azure), registry and package-manager credentials (.docker/config.json, .npmrc, .pypirc, .netrc, .git-credentials, pip.conf), database and other URLs with passwords, JWTs, and gitleaks' vendor token rules (Slack, GitHub, GitLab, Stripe and some 200 more). Known test fixtures of language runtimes and documentation are allowlisted, and so are files that an OS package installed outside /etc (the distribution's own test and template files); `--secret-config` adds rules and allowlists (docs/secrets.md). Matches are masked. A live credential is a veto in the default policy, a recoverable one too (`checks: {CMP-004: {veto: false}}` makes it critical only).",
		Remediation: "Rotate the credential first: it has been published with the image. Then rebuild without it: deleting a file in a later layer does not remove it from the image. Pass build secrets with `RUN --mount=type=secret`, copy only build outputs into the final stage of a multi-stage build, and keep credentials out of the build context (.dockerignore).",
	}, func(s *Subject) ([]Finding, error) {
		if s.Inv == nil {
			return nil, Skip("no inventory")
		}
		// One finding per version of a file, with every hit as evidence.
		type group struct {
			hit   inventory.SecretHit
			names []string
			ev    []Evidence
		}
		type key struct {
			path  string
			layer int
		}
		var groups []*group
		index := map[key]*group{}
		for _, h := range s.Inv.Secrets.Hits {
			if h.Kind != secrets.KindSecret || h.Current && s.fromDistribution(h.Path) {
				continue
			}
			k := key{h.Path, h.Layer}
			g := index[k]
			if g == nil {
				g = &group{hit: h}
				index[k] = g
				groups = append(groups, g)
			}
			if !containsString(g.names, h.Description) {
				g.names = append(g.names, h.Description)
			}
			if len(g.ev) < maxEvidence {
				g.ev = append(g.ev, secretEvidence(s, h))
			}
		}
		var out []Finding
		for _, g := range groups {
			h := g.hit
			what := g.names[0]
			if len(g.names) > 1 {
				what = fmt.Sprintf("%d secrets (%s)", len(g.names), strings.Join(g.names, ", "))
			}
			f := Finding{Severity: Critical, Veto: true, Title: fmt.Sprintf("%s in %s", what, s.where(h.Path, h.Layer, h.Current, h.RemovedBy)), Evidence: g.ev}
			if !h.Current {
				f.Title = "Recoverable: " + f.Title
				f.Remediation = fmt.Sprintf("Rotate the credential now: layer %d still holds it, whatever later layers do. Then rebuild so that no layer ever contains it (RUN --mount=type=secret, or a multi-stage build that copies only build outputs).", h.Layer)
			}
			out = append(out, f)
		}
		return out, nil
	})
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// secretEvidence is the evidence of one hit: path, layer and digest, line,
// the rule, and the masked match.
func secretEvidence(s *Subject, h inventory.SecretHit) Evidence {
	ev := s.InLayer(h.Path, h.Layer)
	ev.Line = h.Line
	ev.Field = "rule " + h.Rule
	ev.Value = h.Match
	return ev
}
