package checks

import (
	"fmt"
	"regexp"
)

// movingTag matches tags that are moved to each new release: a bare major or
// major.minor version, optionally with a variant ("1", "1.25", "3.12-slim"),
// and the usual channel names. A bare number of five digits or more is a
// build number or an all-digit commit hash ("9717656"), not a major version.
var movingTag = regexp.MustCompile(`^(v?\d{1,4}(\.\d+)?(-[a-z][a-z0-9.]*)?|stable|lts|edge|current|mainline|nightly|dev|main|master|slim|alpine|bookworm|bullseye|trixie|jammy|noble)$`)

// rel001 is the check REL-001.
func rel001() Check {
	return define(Meta{
		ID:          "REL-001",
		Dimension:   Reliability,
		Title:       "Reference pinned by digest",
		Severity:    Medium,
		Veto:        true,
		Description: "The reference that will be deployed must not be `latest` or untagged (veto). A tag without a digest can be moved under you: pin `repo@sha256:...`. A moving tag (`1`, `1.25`, `stable`) changes with every release.",
		Remediation: "Deploy by digest: `REPOSITORY@sha256:...` (the exact reference is given in the finding).",
	}, func(s *Subject) ([]Finding, error) {
		img := s.Image
		ref := img.Reference
		if img.PinnedDigest != "" {
			return nil, nil
		}
		repo := img.Repository
		if repo == "" {
			repo = "REPOSITORY"
		}
		pinned := ""
		if img.Digest != "" {
			pinned = repo + "@" + img.Digest
		}
		how := "Deploy by digest: `" + pinned + "`."
		if pinned == "" {
			how = fmt.Sprintf("The registry assigns the digest on push: run `docker push %s:%s` and deploy `%s@<the digest it prints>` (image ID here: %s).", repo, tagOr(img.Tag, "VERSION"), repo, img.ImageID)
		}
		ev := []Evidence{{Field: "reference", Value: ref}}
		if ref == "" {
			ev[0] = Evidence{Field: "tag", Value: img.Tag}
		}
		if img.Digest != "" {
			ev = append(ev, Evidence{Field: "manifest digest", Value: img.Digest})
		} else if img.ImageID != "" {
			ev = append(ev, Evidence{Field: "image ID", Value: img.ImageID})
		}
		switch {
		case ref == "" && img.Tag == "":
			return []Finding{{Severity: Critical, Veto: true, Title: "the image has no tag and no digest to pin", Evidence: ev,
				Remediation: "Give the reference that will be deployed with --ref, tagged with a release version and pinned by digest. " + how}}, nil
		case img.Tag == "" || img.Tag == "latest":
			t := "untagged reference (pulls `latest`)"
			if img.Tag == "latest" {
				t = "`latest` tag"
			}
			return []Finding{{Severity: Critical, Veto: true, Title: fmt.Sprintf("%s %q is not pinned", t, ref), Evidence: ev,
				Remediation: "Tag releases with an immutable version and deploy by digest. " + how}}, nil
		case movingTag.MatchString(img.Tag):
			return []Finding{{Severity: High, Title: fmt.Sprintf("moving tag %q without a digest", img.Tag), Evidence: ev, Remediation: how}}, nil
		}
		return []Finding{{Severity: Medium, Title: fmt.Sprintf("tag %q without a digest", img.Tag), Evidence: ev, Remediation: how}}, nil
	})
}

func tagOr(tag, def string) string {
	if tag == "" || tag == "latest" {
		return def
	}
	return tag
}
