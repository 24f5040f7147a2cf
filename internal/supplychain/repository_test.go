package supplychain

import "testing"

func TestNormalizeRepository(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                         "docker.io/library/nginx",
		"docker.io/nginx":               "docker.io/library/nginx",
		"index.docker.io/library/nginx": "docker.io/library/nginx",
		"bitnami/redis":                 "docker.io/bitnami/redis",
		"ghcr.io/org/app":               "ghcr.io/org/app",
		"127.0.0.1:5000/team/app":       "127.0.0.1:5000/team/app",
		"UPPER/case":                    "",
	} {
		if got := NormalizeRepository(in); got != want {
			t.Errorf("NormalizeRepository(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	const d = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	cases := []struct {
		pattern, repo string
		digests       []string
		want          bool
	}{
		{"registry.example.com/team/*", "registry.example.com/team/app", nil, true},
		{"registry.example.com/team", "registry.example.com/team/sub/app", nil, true},
		{"registry.example.com/team/*", "registry.example.com/other/app", nil, false},
		{"registry.example.com/team/*", "registry.example.com.evil.io/team/app", nil, false},
		{"registry.example.com", "registry.example.com/any/thing", nil, true},
		{"official", "docker.io/library/nginx", nil, true},
		{"official", "docker.io/bitnami/nginx", nil, false},
		{"nginx", "docker.io/library/nginx", nil, true},
		{"docker.io/bitnami/*", "docker.io/bitnami/redis", nil, true},
		{"bitnami/*", "docker.io/bitnami/redis", nil, true},
		{"docker.io/someone/tool@" + d, "docker.io/someone/tool", []string{"", d}, true},
		{"docker.io/someone/tool@" + d, "docker.io/someone/tool", []string{"sha256:22"}, false},
		{"docker.io/someone/tool@" + d, "docker.io/someone/tool-fork", []string{d}, false},
		{"ghcr.io/org*", "ghcr.io/org-team/app", nil, true},
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.repo, c.digests...); got != c.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", c.pattern, c.repo, c.digests, got, c.want)
		}
	}
}
