package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// When every review slot is taken, a review is answered 503 after a second,
// before its body is read: the API server then applies the failure policy,
// and memory does not grow with the queue.
func TestAdmissionOverloadAnswers503(t *testing.T) {
	s := &Server{admissionSlots: make(chan struct{}, 1)}
	s.metrics = newMetrics(s)
	s.admissionSlots <- struct{}{} // the one slot is busy
	called := false
	h := s.timed("validate", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("POST", "/admission/v1/validate", strings.NewReader("{}")))
	if rec.Code != http.StatusServiceUnavailable || called || !strings.Contains(rec.Body.String(), "overloaded") {
		t.Fatalf("%d %q, handler called: %v", rec.Code, rec.Body.String(), called)
	}
	<-s.admissionSlots
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest("POST", "/admission/v1/validate", strings.NewReader("{}")))
	if !called {
		t.Fatal("a free slot did not reach the handler")
	}
}
