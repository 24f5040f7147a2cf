package checks

import "fmt"

// labelSpec is one piece of metadata MNT-001 asks for, under any of its names.
type labelSpec struct {
	what     string
	keys     []string
	severity Severity
}

var wantedLabels = []labelSpec{
	{"source repository", []string{"org.opencontainers.image.source", "org.label-schema.vcs-url"}, Medium},
	{"version", []string{"org.opencontainers.image.version", "org.label-schema.version"}, Low},
	{"revision", []string{"org.opencontainers.image.revision", "org.label-schema.vcs-ref"}, Low},
	{"creation date", []string{"org.opencontainers.image.created", "org.label-schema.build-date"}, Low},
	{"licenses", []string{"org.opencontainers.image.licenses"}, Low},
	{"authors or vendor", []string{"org.opencontainers.image.authors", "org.opencontainers.image.vendor", "org.label-schema.vendor", "maintainer"}, Low},
	{"documentation or url", []string{"org.opencontainers.image.documentation", "org.opencontainers.image.url", "org.label-schema.url", "org.label-schema.usage"}, Low},
}

// mnt001 is the check MNT-001.
func mnt001() Check {
	return define(Meta{
		ID:          "MNT-001",
		Dimension:   Maintainability,
		Title:       "OCI labels present",
		Severity:    Low,
		Description: "The image carries the OCI annotation labels that tell an operator where it comes from and who owns it: source, version, revision, created, licenses, authors or vendor, documentation or url (label-schema names are accepted). A missing source is medium, every other missing label low.",
		Remediation: "Set the labels at build time, e.g. `docker buildx build --label org.opencontainers.image.source=https://... --label org.opencontainers.image.revision=$GIT_SHA`.",
	}, func(s *Subject) ([]Finding, error) {
		labels := map[string]string{}
		if s.Config != nil && s.Config.Config.Labels != nil {
			labels = s.Config.Config.Labels
		}
		var out []Finding
		for _, w := range wantedLabels {
			found := false
			for _, k := range w.keys {
				if labels[k] != "" {
					found = true
					break
				}
			}
			if !found {
				out = append(out, Finding{Severity: w.severity, Title: fmt.Sprintf("no %s label (%s)", w.what, w.keys[0]),
					Evidence:    []Evidence{field("Config.Labels", w.keys[0])},
					Remediation: fmt.Sprintf("Add `LABEL %s=...`.", w.keys[0])})
			}
		}
		for _, k := range s.settings().RequiredLabels {
			if labels[k] == "" {
				out = append(out, Finding{Severity: Medium, Title: fmt.Sprintf("no %s label (required by the policy)", k),
					Evidence: []Evidence{field("Config.Labels", k)}, Remediation: fmt.Sprintf("Add `LABEL %s=...`.", k)})
			}
		}
		return out, nil
	})
}
