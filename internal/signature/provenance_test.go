package signature

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

func TestParseProvenance(t *testing.T) {
	cases := []struct {
		file, predicateType string
		want                Provenance
	}{
		{"slsa02-buildkit.json", "https://slsa.dev/provenance/v0.2", Provenance{SLSA: "v0.2",
			BuilderID: "https://github.com/shipshape-dev/webapp/actions/runs/11223344556", BuildType: "https://mobyproject.org/buildkit@v1",
			SourceRepo: "https://github.com/shipshape-dev/webapp", Commit: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
			BaseImages: []string{
				"gcr.io/distroless/static-debian12:nonroot@sha256:6ec5aa99dc335666e79dc64e4a6c8b89c33a543a1967f20d360922a80dd21f02",
				"golang:1.26-bookworm@sha256:2c58b1f4b2c8f6a2a9e1f0c1d8b7a6e5f4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9",
			}}},
		{"slsa1-github.json", "https://slsa.dev/provenance/v1", Provenance{SLSA: "v1",
			BuilderID: "https://github.com/actions/runner/github-hosted", BuildType: "https://actions.github.io/buildtypes/workflow/v1",
			SourceRepo: "https://github.com/shipshape-dev/webapp", Commit: "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"}},
	}
	for _, c := range cases {
		raw, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseProvenance(c.predicateType, raw)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.file, *got, c.want)
		}
	}
	for _, bad := range []string{``, `null`, `[1,2]`, `{"builder": "not an object"}`} {
		if _, err := parseProvenance(slsaV02, json.RawMessage(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestNormalizeGit(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/o/r.git#refs/heads/main":  "https://github.com/o/r",
		"git+https://github.com/o/r@refs/tags/v1.0.0": "https://github.com/o/r",
		"https://github.com/o/r":                      "https://github.com/o/r",
		"git@github.com:o/r.git":                      "git@github.com:o/r",
		"https://gitlab.com/group/sub/r.git/":         "https://gitlab.com/group/sub/r",
	} {
		if got := normalizeGit(in); got != want {
			t.Errorf("normalizeGit(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseStatementRejects(t *testing.T) {
	for _, bad := range []string{
		`not json`,
		`{"_type":"https://example.com/other","predicateType":"x","subject":[{"digest":{"sha256":"ab"}}]}`,
		`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}]}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"x"}`,
	} {
		if _, err := parseStatement([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
