package server_test

import (
	"testing"

	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every endpoint that decodes
// one: the answer is never a 500 and the server never panics (do fails the
// test on a 5xx).
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{`{"image":"a/b:1"}`, `{"facts":{"schema":"https://shipshape.dev/schemas/facts/v1","version":1}}`, `{"facts":null}`,
		`{"check":"SEC-001","repository":"*","owner":"a","reason":"b","expires_at":"2030-01-01T00:00:00Z"}`, `{"reason":"x","force":true}`,
		`[]`, `null`, `"x"`, `{"image":"` + "\xff" + `"}`, `{"facts":{"image":{"digest":"sha256:x"},"filesystem":{}}}`} {
		f.Add([]byte(s))
	}
	e := newEnv(f, storetest.SQLite(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		e.do("submitter", "POST", "/api/v1/images?wait=0s", body)
		e.do("approver", "POST", "/api/v1/exceptions", body)
		e.do("approver", "POST", "/api/v1/images/sha256:"+"0000000000000000000000000000000000000000000000000000000000000000/approve", body)
	})
}
