package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// sec030 is the check SEC-030.
func sec030() Check {
	return define(Meta{
		ID:        "SEC-030",
		Dimension: Security,
		Title:     "Comes from a trusted source",
		Severity:  High,
		Description: "Says where the image came from (registry and repository, or the archive, layout or engine it was read from) and, when " +
			"the `org.opencontainers.image.base.name` label or the provenance says so, its base image. When the policy lists `trustedRegistries` " +
			"(patterns over registry/namespace/repository, `official` for Docker Official Images, `repo@sha256:...` for one pinned image), an image " +
			"from anywhere else is high, and a base image from anywhere else medium.",
		Remediation: "Pull the image (or mirror it) from a registry the policy trusts, or add its repository to `trustedRegistries` " +
			"(a single image as `repository@sha256:...`).",
	}, func(s *Subject) ([]Finding, error) {
		ev, err := s.supply()
		if err != nil {
			return nil, err
		}
		o := ev.Origin
		trusted := s.settings().TrustedRegistries
		where := originText(o)
		out := []Finding{{Severity: Info, Title: "from " + where, Evidence: []Evidence{field("reference", o.Reference)}}}
		if o.Base != "" {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("base image %s (from the %s)", o.Base, o.BaseFrom), Evidence: []Evidence{field("base", o.Base)}})
		}
		if len(trusted) == 0 {
			return out, nil
		}
		switch pat := matching(trusted, o.Repository, o.Digest, o.IndexDigest, o.PinnedDigest); {
		case o.Repository == "":
			out = append(out, Finding{Severity: High, Title: fmt.Sprintf("the image has no registry name (%s), so it cannot be matched against trustedRegistries", o.Kind),
				Evidence: []Evidence{field("reference", o.Reference)}, Remediation: "Judge it by its registry reference, or give the deployed one with --ref."})
		case pat == "":
			out = append(out, Finding{Severity: High, Title: fmt.Sprintf("%s is not a trusted source (trustedRegistries: %s)", o.Repository, strings.Join(trusted, ", ")),
				Evidence: []Evidence{field("repository", o.Repository)}})
		default:
			out[0].Title += " — trusted by " + pat
		}
		if o.Base != "" {
			baseRepo := supplychain.NormalizeRepository(stripTagDigest(o.Base))
			_, baseDigest, _ := strings.Cut(o.Base, "@")
			if baseRepo != "" && matching(trusted, baseRepo, baseDigest) == "" {
				out = append(out, Finding{Severity: Medium, Title: fmt.Sprintf("base image %s is not from a trusted source", o.Base),
					Evidence: []Evidence{field("base", o.Base)}, Remediation: "Build FROM an image in a trusted registry (mirror the base image there)."})
			}
		}
		return out, nil
	})
}

// matching returns the first pattern that admits repo, "" when none does.
func matching(patterns []string, repo string, digests ...string) string {
	if repo == "" {
		return ""
	}
	for _, p := range patterns {
		if supplychain.Match(p, repo, digests...) {
			return p
		}
	}
	return ""
}

// originText says where the image was read from.
func originText(o supplychain.Origin) string {
	kinds := map[string]string{"oci": "an OCI layout", "docker-archive": "a docker-archive", "docker-daemon": "the Docker engine"}
	switch o.Kind {
	case "registry":
		s := "registry " + o.Repository
		if o.Digest != "" {
			s += "@" + o.Digest
		}
		return s
	case "":
		return "an unknown source"
	}
	what := kinds[o.Kind]
	if what == "" {
		what = o.Kind
	}
	if o.Reference == "" {
		return what + " with no image name"
	}
	return fmt.Sprintf("%s, tagged %s (repository %s)", what, o.Reference, o.Repository)
}

// stripTagDigest turns "name:tag@sha256:..." into "name".
func stripTagDigest(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}
