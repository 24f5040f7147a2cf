package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

// seed stores n images with an evaluation and an approval each, in one
// transaction (the store's own API, no engine: the page reads rows).
func seed(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	states := []string{store.StateApproved, store.StateExpiring, store.StateRetired, store.StateRejected, store.StatePending}
	err := st.Tx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			d := fmt.Sprintf("sha256:%064x", i+1)
			if err := tx.UpsertImage(store.Image{Digest: d, Repository: fmt.Sprintf("registry.example.com/team%d/app%d", i%37, i), Tag: "1.0"}); err != nil {
				return err
			}
			verdict := "PASS"
			if i%3 == 0 {
				verdict = "FAIL"
			}
			id, err := tx.AddEvaluation(store.Evaluation{ImageDigest: d, Verdict: verdict, Grade: "B", Score: 80, Report: []byte(`{}`),
				Findings: []store.FindingKey{{Fingerprint: fmt.Sprintf("fp%d", i), Check: "SEC-020", Advisory: "CVE-2023-5363", Severity: "high"}}})
			if err != nil {
				return err
			}
			st := states[i%len(states)]
			reason := "passes the policy"
			if st != store.StateApproved {
				reason = "fails: SEC-020 openssl CVE-2023-5363; REL-001 <b>tag</b>"
			}
			if err := tx.SetApproval(store.Approval{ImageDigest: d, State: st, Actor: "policy", Reason: reason, EvaluationID: id,
				ValidUntil: time.Now().Add(time.Duration(i%90) * 24 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func getPage(tb testing.TB, e *env, path string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", e.http.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "shipshape_session", Value: e.tokens["viewer"]})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A fleet of 10,000 images (1,000 under the race detector): every page
// answers, paginated, filtered.
func TestFleetPageWith10000Images(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	n := 10000
	if raceEnabled {
		n = 1000
	}
	seed(t, e.st, n)
	if err := e.srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body := getPage(t, e, "/")
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`<span id="total">%d</span>`, n)) || strings.Count(body, `class="image-row"`) != 100 {
		t.Fatalf("fleet page: %d, %d rows", code, strings.Count(body, `class="image-row"`))
	}
	if strings.Contains(body, "<b>tag</b>") {
		t.Error("a reason's markup reached the page unescaped")
	}
	code, body = getPage(t, e, fmt.Sprintf("/?state=retired&offset=%d&sort=repository", n/5-100))
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`<span id="total">%d</span>`, n/5)) || strings.Count(body, `class="image-row"`) != 100 {
		t.Fatalf("retired page 20: %d", code)
	}
	for _, p := range []string{"/upcoming", "/queue", "/admission", "/images/" + fmt.Sprintf("sha256:%064x", 7)} {
		if code, _ := getPage(t, e, p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, _ := getPage(t, e, "/?offset=-1"); code != 400 {
		t.Errorf("bad offset: %d", code)
	}
}

// BenchmarkFleetPage10000 is the server time of the fleet page (100 rows)
// over 10,000 stored images (target: under 500 ms).
func BenchmarkFleetPage10000(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	seed(b, e.st, 10000)
	if err := e.srv.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if code, _ := getPage(b, e, "/?sort=score"); code != 200 {
			b.Fatal(code)
		}
	}
}
