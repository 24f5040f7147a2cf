package supplychain

import (
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// OfficialPattern is the policy keyword for Docker Official Images.
const OfficialPattern = "official"

// officialImages are the repositories the "official" keyword stands for.
var officialImages = []string{"docker.io/library/*"}

// NormalizeRepository writes a repository the way patterns are matched:
// registry host first, Docker Hub as docker.io with library/ for
// single-name images. It returns "" for what is not a repository.
func NormalizeRepository(repo string) string {
	r, err := name.NewRepository(repo)
	if err != nil {
		return ""
	}
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry || reg == "registry-1.docker.io" {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}

// normalizePattern applies NormalizeRepository's rules to a pattern's literal prefix.
func normalizePattern(p string) string {
	p = strings.TrimSpace(p)
	first, rest, ok := strings.Cut(p, "/")
	if !ok {
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			return p
		}
		return "docker.io/library/" + p
	}
	switch {
	case first == "index.docker.io" || first == "registry-1.docker.io":
		first = "docker.io"
	case !strings.ContainsAny(first, ".:") && first != "localhost" && !strings.ContainsAny(first, "*?["):
		return "docker.io/" + p
	}
	if first == "docker.io" && !strings.Contains(rest, "/") && !strings.ContainsAny(rest, "*?[") {
		rest = "library/" + rest
	}
	return first + "/" + rest
}

// Match says whether a trusted-source pattern admits the repository
// (normalised) and, for a digest-pinned pattern ("repo@sha256:..."), one of
// the image's digests. A pattern matches the whole repository or any
// leading run of its path segments, with path.Match globs per segment:
// "registry.example.com/team" and "registry.example.com/team/*" both admit
// registry.example.com/team/app.
func Match(pattern, repo string, digests ...string) bool {
	if strings.EqualFold(pattern, OfficialPattern) {
		for _, p := range officialImages {
			if Match(p, repo) {
				return true
			}
		}
		return false
	}
	pat, pinned, hasDigest := strings.Cut(pattern, "@")
	pat = normalizePattern(pat)
	if hasDigest {
		found := false
		for _, d := range digests {
			found = found || d != "" && d == pinned
		}
		if !found {
			return false
		}
		ok, _ := path.Match(pat, repo)
		return ok || pat == repo
	}
	segs := strings.Split(repo, "/")
	for i := len(segs); i >= 1; i-- {
		if ok, _ := path.Match(pat, strings.Join(segs[:i], "/")); ok {
			return true
		}
	}
	return false
}
