package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// FuzzReview feeds arbitrary bodies to the decoder and the whole validating and
// mutating handlers: no panic, only 200 (with an AdmissionReview echoing the
// uid) or a 4xx.
func FuzzReview(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.request.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"image":""}]}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"group":"batch","kind":"CronJob"},"operation":"UPDATE","object":{"spec":null},"oldObject":[]}}`))
	h := newTestHandler(f, func(c *Config) { c.EnableMutation = true; c.MaxBodyBytes = 1 << 20 }, nil)
	mux := http.NewServeMux()
	h.Register(mux)
	f.Fuzz(func(t *testing.T, body []byte) {
		rv, err := DecodeReview(body)
		for _, path := range []string{ValidatePath, MutatePath} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			switch {
			case err == nil && rec.Code == http.StatusOK:
				var out admissionv1.AdmissionReview
				if e := json.Unmarshal(rec.Body.Bytes(), &out); e != nil || out.Response == nil || out.Response.UID != rv.Request.UID {
					t.Fatalf("%s: bad response %s", path, rec.Body)
				}
			case err != nil && rec.Code >= 400 && rec.Code < 500:
			default:
				t.Fatalf("%s: decode error %v but status %d: %s", path, err, rec.Code, rec.Body)
			}
		}
	})
}
