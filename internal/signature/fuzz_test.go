package signature

import (
	"os"
	"testing"
)

// FuzzStatement feeds arbitrary payloads to the in-toto and provenance
// readers: they must return an error or a description, never panic.
func FuzzStatement(f *testing.F) {
	for _, name := range []string{"slsa02-buildkit.json", "slsa1-github.json", "spdx.json"} {
		pred, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"digest":{"sha256":"ab"}}],"predicate":` + string(pred) + `}`))
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{}],"predicate":{"materials":[{"uri":"pkg:docker/%zz"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseStatement(data)
		if err != nil {
			return
		}
		var a Attestation
		a.describe(st)
		if a.Kind == "" || len(a.Subjects) == 0 && len(st.Subject) > 0 && len(st.Subject[0].Digest) > 0 {
			t.Errorf("described %+v from %s", a, data)
		}
	})
}
