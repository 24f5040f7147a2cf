package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOpenDSN(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "/tmp/x.db"} {
		if _, err := Open(ctxT(t), dsn); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
	if got := redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redact kept the password: %s", got)
	}
}

func TestRebind(t *testing.T) {
	if got := postgresDialect.rebind("a = ? AND b IN (?, ?)"); got != "a = $1 AND b IN ($2, $3)" {
		t.Errorf("rebind: %s", got)
	}
	if got := sqliteDialect.rebind("a = ?"); got != "a = ?" {
		t.Errorf("rebind sqlite: %s", got)
	}
}

func TestMigrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		for i := 0; i < 3; i++ { // idempotent: reopening applies nothing
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatalf("open #%d: %v", i, err)
			}
			v, err := s.Version(ctx)
			if err != nil || v != SchemaVersion() || v < 1 {
				t.Fatalf("version %d, %v; want %d", v, err, SchemaVersion())
			}
			var n int
			if err := s.queryRow(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != SchemaVersion() {
				t.Fatalf("schema_version rows %d, %v", n, err)
			}
			s.Close()
		}
		// A newer shipshape migrated this database: refuse it.
		s := openStore(t, dsn)
		newer := SchemaVersion() + 1
		mustTx(t, s, func(tx *Tx) error {
			_, err := tx.exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)`, newer)
			return err
		})
		s.Close()
		_, err := Open(ctx, dsn)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("open of a newer schema: %v, want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), "upgrade shipshape") {
			t.Errorf("refusal is not clear: %v", err)
		}
		t.Log(err)
	})
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX b ON a (x);\n")
	want := []string{"CREATE TABLE a (x INT)", "CREATE INDEX b ON a (x)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q", got)
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestImagesAndEvaluations(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		idx := Image{Digest: "sha256:idx", Repository: "team/app", Tag: "1.0", Kind: "index", CreatedAt: t0, UpdatedAt: t0}
		amd := Image{Digest: "sha256:amd", Repository: "team/app", Tag: "1.0", Kind: "image", IndexDigest: "sha256:idx", Platform: "linux/amd64", CreatedAt: t0, UpdatedAt: t0}
		arm := Image{Digest: "sha256:arm", Repository: "team/app", Tag: "1.0", IndexDigest: "sha256:idx", Platform: "linux/arm64", CreatedAt: t0, UpdatedAt: t0}
		var e1, e2 int64
		mustTx(t, s, func(tx *Tx) error {
			for _, im := range []Image{idx, amd, arm} {
				if err := tx.UpsertImage(im); err != nil {
					return err
				}
			}
			var err error
			e1, err = tx.AddEvaluation(Evaluation{ImageDigest: "sha256:amd", FactsVersion: "f1", DBVersions: map[string]string{"osv": "2026-11-01"},
				PolicyDigest: "sha256:pol", Verdict: "FAIL", Grade: "F", Score: 40, Report: json.RawMessage(`{"verdict":"FAIL"}`), EvaluatedAt: t0,
				Findings: []FindingKey{{Fingerprint: "fp1", Check: "SEC-001", Severity: "critical"}, {Fingerprint: "fp2", Check: "SEC-020", Advisory: "CVE-2026-1", Severity: "high"}}})
			if err != nil {
				return err
			}
			e2, err = tx.AddEvaluation(Evaluation{ImageDigest: "sha256:amd", Verdict: "PASS", Grade: "B", Score: 80, Report: json.RawMessage(`{"verdict":"PASS"}`), EvaluatedAt: t0.Add(time.Hour),
				Findings: []FindingKey{{Fingerprint: "fp2", Check: "SEC-020", Advisory: "CVE-2026-1", Severity: "high"}}})
			// Reads inside the Tx see its writes.
			if _, err := tx.Image(ctx, "sha256:arm"); err != nil {
				return err
			}
			return err
		})
		got, err := s.Image(ctx, "sha256:amd")
		if err != nil || !reflect.DeepEqual(got, amd) {
			t.Fatalf("Image: %+v, %v\nwant %+v", got, err, amd)
		}
		if _, err := s.Image(ctx, "sha256:nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing image: %v", err)
		}
		plats, err := s.PlatformImages(ctx, "sha256:idx")
		if err != nil || len(plats) != 2 || plats[0].Platform != "linux/amd64" {
			t.Errorf("PlatformImages: %+v, %v", plats, err)
		}
		// Upsert keeps CreatedAt, takes the new tag.
		mustTx(t, s, func(tx *Tx) error {
			return tx.UpsertImage(Image{Digest: "sha256:amd", Repository: "team/app", Tag: "1.1", CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(2 * time.Hour)})
		})
		got, _ = s.Image(ctx, "sha256:amd")
		if got.Tag != "1.1" || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("after upsert: %+v", got)
		}

		latest, err := s.LatestEvaluation(ctx, "sha256:amd")
		if err != nil || latest.ID != e2 || latest.Verdict != "PASS" || string(latest.Report) != `{"verdict":"PASS"}` {
			t.Fatalf("LatestEvaluation: %+v, %v", latest, err)
		}
		evs, err := s.Evaluations(ctx, "sha256:amd", 0)
		if err != nil || len(evs) != 2 || evs[1].ID != e1 || evs[1].DBVersions["osv"] != "2026-11-01" || !evs[1].EvaluatedAt.Equal(t0) {
			t.Fatalf("Evaluations: %+v, %v", evs, err)
		}
		if one, _ := s.Evaluations(ctx, "sha256:amd", 1); len(one) != 1 {
			t.Errorf("limit: %d", len(one))
		}
		fs, err := s.Findings(ctx, e1)
		if err != nil || len(fs) != 2 || fs[1].Advisory != "CVE-2026-1" {
			t.Errorf("Findings: %+v, %v", fs, err)
		}
		if _, err := s.LatestEvaluation(ctx, "sha256:arm"); !errors.Is(err, ErrNotFound) {
			t.Errorf("no evaluation: %v", err)
		}
		if err := s.Tx(ctx, func(tx *Tx) error {
			_, err := tx.AddEvaluation(Evaluation{ImageDigest: "sha256:unknown", Verdict: "PASS"})
			return err
		}); err == nil {
			t.Error("evaluation of an unknown image accepted")
		}
	})
}

func TestApprovals(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		mustTx(t, s, func(tx *Tx) error {
			for _, d := range []string{"sha256:a", "sha256:b", "sha256:c"} {
				if err := tx.UpsertImage(Image{Digest: d, Repository: "r"}); err != nil {
					return err
				}
			}
			if _, err := tx.AddEvaluation(Evaluation{ImageDigest: "sha256:b", Verdict: "PASS", EvaluatedAt: t0.Add(48 * time.Hour)}); err != nil {
				return err
			}
			a := Approval{ImageDigest: "sha256:a", State: StateApproved, Actor: "alice", Reason: "ok", DecidedAt: t0,
				ValidUntil: t0.Add(24 * time.Hour), Signer: "ci@example.org", VerifiedDigest: "sha256:a"}
			if err := tx.SetApproval(a); err != nil {
				return err
			}
			if err := tx.SetApproval(Approval{ImageDigest: "sha256:b", State: StateApproved, DecidedAt: t0}); err != nil {
				return err
			}
			return tx.SetApproval(Approval{ImageDigest: "sha256:c", State: StatePending, DecidedAt: t0})
		})
		a, err := s.Approval(ctx, "sha256:a")
		want := Approval{ImageDigest: "sha256:a", State: StateApproved, Actor: "alice", Reason: "ok", DecidedAt: t0,
			ValidUntil: t0.Add(24 * time.Hour), Signer: "ci@example.org", VerifiedDigest: "sha256:a"}
		if err != nil || !reflect.DeepEqual(a, want) {
			t.Fatalf("Approval: %+v, %v", a, err)
		}
		if _, err := s.Approval(ctx, "sha256:zzz"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing approval: %v", err)
		}
		mustTx(t, s, func(tx *Tx) error {
			return tx.SetApproval(Approval{ImageDigest: "sha256:a", State: StateRevoked, Actor: "bob", Reason: "CVE", DecidedAt: t0.Add(time.Hour)})
		})
		a, _ = s.Approval(ctx, "sha256:a")
		if a.State != StateRevoked || a.Actor != "bob" || !a.ValidUntil.IsZero() {
			t.Errorf("replaced approval: %+v", a)
		}
		approved, _ := s.Approvals(ctx, StateApproved)
		all, _ := s.Approvals(ctx)
		if len(approved) != 1 || approved[0].ImageDigest != "sha256:b" || len(all) != 3 {
			t.Errorf("Approvals: %+v / %d", approved, len(all))
		}
		mustTx(t, s, func(tx *Tx) error {
			return tx.SetApproval(Approval{ImageDigest: "sha256:b", State: StateApproved, DecidedAt: t0, ValidUntil: t0.Add(time.Hour)})
		})
		exp, _ := s.ExpiringApprovals(ctx, t0.Add(2*time.Hour), StateApproved)
		if len(exp) != 1 || exp[0].ImageDigest != "sha256:b" {
			t.Errorf("ExpiringApprovals: %+v", exp)
		}
		// b was evaluated at t0+48h, c never: only c is stale at t0+24h.
		stale, err := s.StaleApprovals(ctx, t0.Add(24*time.Hour))
		if err != nil || len(stale) != 1 || stale[0].ImageDigest != "sha256:c" {
			t.Errorf("StaleApprovals: %+v, %v", stale, err)
		}
		stale, _ = s.StaleApprovals(ctx, t0.Add(72*time.Hour))
		if len(stale) != 2 || stale[0].ImageDigest != "sha256:c" {
			t.Errorf("StaleApprovals later: %+v", stale)
		}
	})
}

func TestExceptionsEventsTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		var id1, id2 int64
		mustTx(t, s, func(tx *Tx) error {
			var err error
			id1, err = tx.CreateException(Exception{Check: "SEC-001", RepositoryPattern: "team/*", Owner: "team", Reason: "legacy", CreatedBy: "alice", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			if err != nil {
				return err
			}
			id2, err = tx.CreateException(Exception{Advisory: "CVE-2026-1", ImagePattern: "sha256:a*", Owner: "sec", Reason: "not reachable", CreatedAt: t0})
			return err
		})
		e, err := s.Exception(ctx, id1)
		if err != nil || e.Check != "SEC-001" || e.RepositoryPattern != "team/*" || !e.ExpiresAt.Equal(t0.Add(time.Hour)) || e.CreatedBy != "alice" {
			t.Fatalf("Exception: %+v, %v", e, err)
		}
		active, _ := s.Exceptions(ctx, ExceptionFilter{ActiveAt: t0.Add(2 * time.Hour)})
		if len(active) != 1 || active[0].ID != id2 {
			t.Errorf("active: %+v", active)
		}
		byAdv, _ := s.Exceptions(ctx, ExceptionFilter{Advisory: "CVE-2026-1"})
		if len(byAdv) != 1 {
			t.Errorf("by advisory: %+v", byAdv)
		}
		mustTx(t, s, func(tx *Tx) error {
			e.Reason = "still legacy"
			e.ExpiresAt = time.Time{}
			if err := tx.UpdateException(e); err != nil {
				return err
			}
			return tx.DeleteException(id2)
		})
		e, _ = s.Exception(ctx, id1)
		all, _ := s.Exceptions(ctx, ExceptionFilter{})
		if e.Reason != "still legacy" || !e.ExpiresAt.IsZero() || len(all) != 1 {
			t.Errorf("after update/delete: %+v, %d", e, len(all))
		}
		if err := s.Tx(ctx, func(tx *Tx) error { return tx.DeleteException(id2) }); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}

		// Events.
		mustTx(t, s, func(tx *Tx) error {
			for i := 0; i < 5; i++ {
				subj := "sha256:a"
				if i%2 == 1 {
					subj = "sha256:b"
				}
				if _, err := tx.AppendEvent(Event{At: t0.Add(time.Duration(i) * time.Minute), Actor: "alice", Action: "image.submitted", Subject: subj, Details: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)}); err != nil {
					return err
				}
			}
			_, err := tx.AppendEvent(Event{Actor: "x", Action: "bad", Details: json.RawMessage(`{`)})
			if err == nil {
				t.Error("invalid details accepted")
			}
			return nil
		})
		evs, err := s.Events(ctx, EventFilter{Subject: "sha256:a"})
		if err != nil || len(evs) != 3 || string(evs[2].Details) != `{"i":4}` || !evs[0].At.Equal(t0) {
			t.Fatalf("Events: %+v, %v", evs, err)
		}
		page, _ := s.Events(ctx, EventFilter{AfterID: evs[0].ID, Limit: 2})
		newest, _ := s.Events(ctx, EventFilter{Newest: true, Limit: 1})
		window, _ := s.Events(ctx, EventFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)})
		if len(page) != 2 || page[0].ID != evs[0].ID+1 || len(newest) != 1 || newest[0].ID != evs[2].ID || len(window) != 2 {
			t.Errorf("event pages: %d %d %d", len(page), len(newest), len(window))
		}

		// Tokens.
		var tid int64
		mustTx(t, s, func(tx *Tx) error {
			var err error
			tid, err = tx.CreateToken(Token{Name: "ci", Hash: "h1", Role: RoleSubmitter, CreatedAt: t0})
			return err
		})
		if err := s.Tx(ctx, func(tx *Tx) error {
			_, err := tx.CreateToken(Token{Name: "dup", Hash: "h1", Role: RoleViewer})
			return err
		}); err == nil {
			t.Error("duplicate token hash accepted")
		}
		tok, err := s.LookupToken(ctx, "h1")
		if err != nil || tok.ID != tid || tok.Role != RoleSubmitter || !tok.LastUsedAt.IsZero() {
			t.Fatalf("LookupToken: %+v, %v", tok, err)
		}
		if err := s.TouchToken(ctx, tid, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		mustTx(t, s, func(tx *Tx) error { return tx.RevokeToken(tid, t0.Add(time.Hour)) })
		tok, _ = s.LookupToken(ctx, "h1")
		if !tok.LastUsedAt.Equal(t0.Add(time.Minute)) || !tok.RevokedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("token after use/revoke: %+v", tok)
		}
		if _, err := s.LookupToken(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}
		if toks, _ := s.Tokens(ctx); len(toks) != 1 {
			t.Errorf("Tokens: %+v", toks)
		}
	})
}

func TestFactsAndPackages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		blob := []byte{0, 1, 2, 0xff, 'x'}
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.PutFacts(Facts{ImageDigest: "sha256:a", Version: "1", Data: blob, Packages: []string{"deb/openssl", "deb/zlib", "deb/openssl"}}); err != nil {
				return err
			}
			return tx.PutFacts(Facts{ImageDigest: "sha256:b", Version: "1", Data: []byte("{}"), Packages: []string{"Go/golang.org/x/net"}})
		})
		f, err := s.Facts(ctx, "sha256:a")
		if err != nil || string(f.Data) != string(blob) || !reflect.DeepEqual(f.Packages, []string{"deb/openssl", "deb/zlib"}) {
			t.Fatalf("Facts: %+v, %v", f, err)
		}
		got, _ := s.ImagesByPackages(ctx, []string{"deb/openssl", "Go/golang.org/x/net", "npm/left-pad"})
		if !reflect.DeepEqual(got, []string{"sha256:a", "sha256:b"}) {
			t.Errorf("ImagesByPackages: %v", got)
		}
		// Replacing facts replaces the package keys.
		mustTx(t, s, func(tx *Tx) error {
			return tx.PutFacts(Facts{ImageDigest: "sha256:a", Version: "2", Data: []byte("v2"), Packages: []string{"deb/curl"}})
		})
		got, _ = s.ImagesByPackages(ctx, []string{"deb/openssl"})
		f, _ = s.Facts(ctx, "sha256:a")
		if len(got) != 0 || f.Version != "2" || !reflect.DeepEqual(f.Packages, []string{"deb/curl"}) {
			t.Errorf("after replace: %v %+v", got, f)
		}
		// Many keys: chunked queries.
		keys := make([]string, 1200)
		for i := range keys {
			keys[i] = "deb/p" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i)
		}
		keys[1100] = "deb/curl"
		got, err = s.ImagesByPackages(ctx, keys)
		if err != nil || !reflect.DeepEqual(got, []string{"sha256:a"}) {
			t.Errorf("many keys: %v %v", got, err)
		}
		if _, err := s.Facts(ctx, "sha256:none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing facts: %v", err)
		}
	})
}

func TestListImages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		mustTx(t, s, func(tx *Tx) error {
			for i := 0; i < 30; i++ {
				d := "sha256:" + strconv.Itoa(100+i)
				repo := "team/a"
				if i%3 == 0 {
					repo = "team/b"
				}
				if err := tx.UpsertImage(Image{Digest: d, Repository: repo, Tag: "v", UpdatedAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
					return err
				}
				if i%2 == 0 {
					f := []FindingKey{{Fingerprint: "f", Check: "SEC-001"}}
					if i%4 == 0 {
						f = append(f, FindingKey{Fingerprint: "g", Check: "SEC-020", Advisory: "CVE-2026-9"})
					}
					if _, err := tx.AddEvaluation(Evaluation{ImageDigest: d, Verdict: "FAIL", Grade: string(rune('A' + i%5)), Score: i, EvaluatedAt: t0, Findings: f}); err != nil {
						return err
					}
				}
				if i%5 == 0 {
					if err := tx.SetApproval(Approval{ImageDigest: d, State: StateApproved}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		check := func(f ImageFilter, wantTotal, wantPage int) []ImageSummary {
			t.Helper()
			rows, total, err := s.ListImages(ctx, f)
			if err != nil || total != wantTotal || len(rows) != wantPage {
				t.Fatalf("ListImages(%+v): %d rows, total %d, %v; want %d, %d", f, len(rows), total, err, wantPage, wantTotal)
			}
			return rows
		}
		rows := check(ImageFilter{Limit: 10}, 30, 10)
		if rows[0].Digest != "sha256:129" { // newest updated first
			t.Errorf("default order: %s", rows[0].Digest)
		}
		rows = check(ImageFilter{Limit: 10, Offset: 25}, 30, 5)
		check(ImageFilter{Repository: "team/b"}, 10, 10)
		check(ImageFilter{State: StateApproved}, 6, 6)
		check(ImageFilter{State: "none"}, 24, 24)
		check(ImageFilter{Check: "SEC-001"}, 15, 15)
		rows = check(ImageFilter{Advisory: "CVE-2026-9", Sort: "score"}, 8, 8)
		if rows[0].Score != 0 || rows[7].Score != 28 || rows[1].Verdict != "FAIL" || rows[1].EvaluatedAt.IsZero() {
			t.Errorf("by CVE, score order: %+v", rows)
		}
		check(ImageFilter{Advisory: "CVE-2026-9", State: StateApproved, Repository: "team/b"}, 1, 1) // i = 0 (CVE: i%4==0, approved: i%5==0, team/b: i%3==0)
		for _, sort := range []string{"repository", "evaluated", "grade", "updated"} {
			check(ImageFilter{Sort: sort, Limit: 1000}, 30, 30)
		}
		if _, _, err := s.ListImages(ctx, ImageFilter{Sort: "bogus"}); err == nil {
			t.Error("unknown sort accepted")
		}
	})
}

// TestConcurrentOpen: several processes starting together on a fresh
// database migrate it once, without errors.
func TestConcurrentOpen(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() {
				s, err := Open(ctx, dsn)
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; err != nil {
				t.Errorf("concurrent Open: %v", err)
			}
		}
		s := openStore(t, dsn)
		if v, err := s.Version(ctx); err != nil || v != SchemaVersion() {
			t.Errorf("version %d, %v", v, err)
		}
	})
}
