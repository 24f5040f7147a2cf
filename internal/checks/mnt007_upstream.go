package checks

import (
	"fmt"
	"time"
)

// mnt007 is the check MNT-007.
func mnt007() Check {
	return define(Meta{
		ID:        "MNT-007",
		Dimension: Maintainability,
		Title:     "Upstream is maintained",
		Severity:  High,
		Veto:      true,
		Description: "Finds the image's source repository (the policy's `upstream.sources`, then the `org.opencontainers.image.source`, " +
			"`org.label-schema.vcs-url` or repository-looking `url` labels, then the SLSA provenance) and asks its forge (GitHub; " +
			"`--forge-url`, token from GITHUB_TOKEN, answers cached on disk) whether it is archived, when the default branch last got a commit, " +
			"the last release and whether recent issues get answers. Archived, or no commit for `thresholds.maxUpstreamAgeDays` (365), is a veto. " +
			"No source and no maintainer (authors, vendor, maintainer labels) is high; a repository the forge does not have is high; a forge " +
			"that cannot answer (rate limit, error) is medium, never a pass. `--offline` uses cached answers only and skips the check without one.",
		Remediation: "Base the image on software that is maintained, or take over its maintenance; label the image with its source " +
			"(`LABEL org.opencontainers.image.source=https://github.com/ORG/REPO`).",
	}, func(s *Subject) ([]Finding, error) {
		ev, err := s.supply()
		if err != nil {
			return nil, err
		}
		u := ev.Upstream
		if u.Source == "" {
			if u.Maintainer == "" {
				return []Finding{{Severity: High, Title: "no identifiable source or maintainer: no source label, no provenance, no authors, vendor or maintainer label",
					Evidence: []Evidence{field("Config.Labels", "org.opencontainers.image.source")},
					Remediation: "Label the image: `LABEL org.opencontainers.image.source=https://github.com/ORG/REPO org.opencontainers.image.authors=TEAM`; " +
						"or build with `docker buildx build --provenance=mode=max`; or map the image to its repository in the policy (`upstream.sources`)."}}, nil
			}
			return []Finding{{Severity: Medium, Title: fmt.Sprintf("maintained by %s, but no source repository to check upstream maintenance", u.Maintainer),
				Evidence:    []Evidence{field(u.MaintainerFrom, u.Maintainer)},
				Remediation: "Add `LABEL org.opencontainers.image.source=https://github.com/ORG/REPO`, or map the image in the policy (`upstream.sources`)."}}, nil
		}
		src := field(u.From, u.Source)
		switch {
		case u.ParseError != "":
			return []Finding{{Severity: Medium, Title: "the source is not a repository URL: " + supplyClip(u.ParseError, 200), Evidence: []Evidence{src},
				Remediation: "Set org.opencontainers.image.source to the repository's URL (https://HOST/OWNER/REPO)."}}, nil
		case u.NotChecked != "" && u.ByChoice:
			return nil, Skip("upstream %s not checked: %s", u.Repo, u.NotChecked)
		case u.NotChecked != "":
			return []Finding{{Severity: Medium, Title: fmt.Sprintf("upstream %s not checked: %s", u.Source, u.NotChecked), Evidence: []Evidence{src},
				Remediation: "Check the upstream by hand, or map the image to a GitHub repository in the policy (`upstream.sources`)."}}, nil
		case u.Error != "":
			title := "upstream maintenance not checked: " + supplyClip(u.Error, 300)
			return []Finding{{Severity: Medium, Title: title, Evidence: []Evidence{src},
				Remediation: "Run again later (answers are cached), set GITHUB_TOKEN for a higher rate limit, or check the upstream by hand."}}, nil
		}
		h := u.Health
		repo := h.Repo.String()
		if !h.Found {
			return []Finding{{Severity: High, Title: fmt.Sprintf("source repository %s does not exist on %s (deleted, renamed, or private)", repo, h.Repo.Host),
				Evidence:    []Evidence{src},
				Remediation: "Fix the source label, set GITHUB_TOKEN when the repository is private, or map the image in the policy (`upstream.sources`)."}}, nil
		}
		var out []Finding
		if h.Stale {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("forge answer from the cache of %s (%s)", h.FetchedAt.Format("2006-01-02"), h.StaleReason), Evidence: []Evidence{src}})
		}
		maxAge := s.settings().MaxUpstreamAge
		switch {
		case h.Archived:
			out = append(out, Finding{Severity: High, Veto: true, Title: fmt.Sprintf("upstream %s is archived (read-only: no fixes will come)", repo), Evidence: []Evidence{src, field("archived", "true")}})
		case h.LastCommit.IsZero():
			out = append(out, Finding{Severity: High, Veto: true, Title: fmt.Sprintf("upstream %s has no commit on its default branch %s", repo, h.DefaultBranch), Evidence: []Evidence{src}})
		case s.Now.Sub(h.LastCommit) > maxAge:
			out = append(out, Finding{Severity: High, Veto: true,
				Title:    fmt.Sprintf("upstream %s has had no commit on %s for %d days (last %s; the limit is %d)", repo, h.DefaultBranch, days(s.Now.Sub(h.LastCommit)), h.LastCommit.Format("2006-01-02"), days(maxAge)),
				Evidence: []Evidence{src, field("last commit", h.LastCommitSHA)}})
		default:
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("upstream %s: last commit on %s %s (%d days ago)", repo, h.DefaultBranch, h.LastCommit.Format("2006-01-02"), days(s.Now.Sub(h.LastCommit))),
				Evidence: []Evidence{src, field("last commit", h.LastCommitSHA)}})
		}
		if h.LastRelease != nil {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("last release %s on %s", h.LastRelease.Tag, h.LastRelease.Published.Format("2006-01-02")), Evidence: []Evidence{src}})
		}
		if is := h.Issues; is != nil && is.Sampled > 0 {
			sev := Info
			if is.Sampled >= 3 && is.Answered*2 < is.Sampled {
				sev = Low
			}
			out = append(out, Finding{Severity: sev, Title: fmt.Sprintf("%d of %d recent issues got an answer or were closed", is.Answered, is.Sampled), Evidence: []Evidence{src}})
		}
		return out, nil
	})
}

func days(d time.Duration) int { return int(d.Hours() / 24) }
