package signature

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Provenance is what a SLSA provenance predicate says about the build.
type Provenance struct {
	// SLSA is the predicate version ("v0.2", "v1").
	SLSA      string `json:"slsa"`
	BuilderID string `json:"builder_id,omitempty"`
	BuildType string `json:"build_type,omitempty"`
	// SourceRepo is the repository the image was built from, Commit its revision.
	SourceRepo string `json:"source_repo,omitempty"`
	Commit     string `json:"commit,omitempty"`
	// BaseImages are the container images the build pulled (materials or
	// resolved dependencies with a pkg:docker URI), e.g. "debian:12@sha256:...".
	BaseImages []string `json:"base_images,omitempty"`
}

type digestSet map[string]string

type material struct {
	URI    string    `json:"uri"`
	Digest digestSet `json:"digest"`
}

type configSource struct {
	URI        string    `json:"uri"`
	Digest     digestSet `json:"digest"`
	EntryPoint string    `json:"entryPoint"`
	Path       string    `json:"path"`
}

type vcsInfo struct {
	Source   string `json:"source"`
	Revision string `json:"revision"`
}

// slsa02 is the SLSA v0.2 predicate (as written by BuildKit and cosign users).
type slsa02 struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	BuildType  string `json:"buildType"`
	Invocation struct {
		ConfigSource configSource `json:"configSource"`
	} `json:"invocation"`
	Metadata  map[string]json.RawMessage `json:"metadata"`
	Materials []material                 `json:"materials"`
}

// slsa1 is the SLSA v1 predicate.
type slsa1 struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			ConfigSource configSource `json:"configSource"`
			Workflow     struct {
				Repository string `json:"repository"`
				Ref        string `json:"ref"`
			} `json:"workflow"`
		} `json:"externalParameters"`
		ResolvedDependencies []material `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata struct {
			BuildKit struct {
				VCS vcsInfo `json:"vcs"`
			} `json:"buildkit_metadata"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

const buildkitMetadata = "https://mobyproject.org/buildkit@v1#metadata"

// parseProvenance reads a SLSA v0.2 or v1 predicate.
func parseProvenance(predicateType string, raw json.RawMessage) (*Provenance, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("empty predicate")
	}
	switch {
	case strings.HasPrefix(predicateType, slsaV1):
		var p slsa1
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		out := &Provenance{SLSA: "v1", BuilderID: p.RunDetails.Builder.ID, BuildType: p.BuildDefinition.BuildType}
		ext := p.BuildDefinition.ExternalParameters
		deps := p.BuildDefinition.ResolvedDependencies
		switch vcs := p.RunDetails.Metadata.BuildKit.VCS; {
		case vcs.Source != "":
			out.SourceRepo, out.Commit = vcs.Source, vcs.Revision
		case ext.ConfigSource.URI != "" && isGitURI(ext.ConfigSource.URI):
			out.SourceRepo, out.Commit = normalizeGit(ext.ConfigSource.URI), gitDigest(ext.ConfigSource.Digest)
		case ext.Workflow.Repository != "":
			out.SourceRepo = normalizeGit(ext.Workflow.Repository)
			out.Commit = commitFor(deps, ext.Workflow.Repository)
		}
		fillFromMaterials(out, deps)
		return out, nil
	default:
		var p slsa02
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		out := &Provenance{SLSA: "v0.2", BuilderID: p.Builder.ID, BuildType: p.BuildType}
		var vcs struct {
			VCS vcsInfo `json:"vcs"`
		}
		if m, ok := p.Metadata[buildkitMetadata]; ok {
			_ = json.Unmarshal(m, &vcs)
		}
		switch cs := p.Invocation.ConfigSource; {
		case vcs.VCS.Source != "":
			out.SourceRepo, out.Commit = vcs.VCS.Source, vcs.VCS.Revision
		case cs.URI != "" && isGitURI(cs.URI):
			out.SourceRepo, out.Commit = normalizeGit(cs.URI), gitDigest(cs.Digest)
		}
		fillFromMaterials(out, p.Materials)
		return out, nil
	}
}

// fillFromMaterials takes the base images from the materials, and the source
// repository when nothing else named it.
func fillFromMaterials(p *Provenance, ms []material) {
	seen := map[string]bool{}
	for _, m := range ms {
		if img := dockerImage(m); img != "" && !seen[img] {
			seen[img] = true
			p.BaseImages = append(p.BaseImages, img)
			continue
		}
		if p.SourceRepo == "" && isGitURI(m.URI) {
			p.SourceRepo, p.Commit = normalizeGit(m.URI), gitDigest(m.Digest)
		}
	}
	sort.Strings(p.BaseImages)
}

// commitFor returns the git commit of the dependency that is repo.
func commitFor(ms []material, repo string) string {
	want := normalizeGit(repo)
	for _, m := range ms {
		if normalizeGit(m.URI) == want {
			return gitDigest(m.Digest)
		}
	}
	return ""
}

// normalizeGit turns a git material or config source URI into the
// repository's URL: no "git+" scheme prefix, "@ref" or "#ref" suffix, or ".git".
func normalizeGit(u string) string {
	u = strings.TrimPrefix(u, "git+")
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexAny(rest, "/"); j >= 0 {
			if k := strings.IndexAny(rest[j:], "@#"); k >= 0 {
				rest = rest[:j+k]
			}
		}
		u = u[:i+3] + rest
	} else if k := strings.Index(u, "#"); k >= 0 {
		u = u[:k]
	}
	return strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
}

func gitDigest(d digestSet) string {
	for _, k := range []string{"gitCommit", "sha1", "sha256"} {
		if v := d[k]; v != "" {
			return v
		}
	}
	return ""
}

// isGitURI says whether a material URI names a source repository.
func isGitURI(u string) bool {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "pkg:") {
		return false
	}
	return strings.HasPrefix(l, "git+") || strings.HasPrefix(l, "git@") || strings.HasPrefix(l, "ssh://") ||
		strings.Contains(l, ".git") || strings.Contains(l, "github.com/") || strings.Contains(l, "gitlab.com/")
}

// frontends are BuildKit frontend images recorded as materials; they are not base images.
var frontends = map[string]bool{"docker/dockerfile": true, "docker/dockerfile-upstream": true}

// dockerImage renders a pkg:docker material as "name:tag@digest", "" for other materials.
func dockerImage(m material) string {
	if !strings.HasPrefix(m.URI, "pkg:docker/") {
		return ""
	}
	p, err := packageurl.FromString(m.URI)
	if err != nil {
		return ""
	}
	n := p.Name
	if p.Namespace != "" {
		n = p.Namespace + "/" + p.Name
	}
	if frontends[n] {
		return ""
	}
	if p.Version != "" {
		if strings.HasPrefix(p.Version, "sha256:") {
			n += "@" + p.Version
		} else {
			n += ":" + p.Version
		}
	}
	if d := m.Digest["sha256"]; d != "" && !strings.Contains(n, "@") {
		n += "@sha256:" + d
	}
	return n
}
