package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// populate writes n images, each with an evaluation (two finding keys) and,
// for two thirds of them, an approval.
func populate(b *testing.B, s *Store, n int) {
	b.Helper()
	for start := 0; start < n; start += 1000 {
		err := s.Tx(context.Background(), func(tx *Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				d := fmt.Sprintf("sha256:%064d", i)
				if err := tx.UpsertImage(Image{Digest: d, Repository: fmt.Sprintf("team/app%d", i%50), Tag: "v1",
					UpdatedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
					return err
				}
				if _, err := tx.AddEvaluation(Evaluation{ImageDigest: d, Verdict: "PASS", Grade: "B", Score: i % 100, EvaluatedAt: t0,
					Report: []byte(`{"verdict":"PASS"}`),
					Findings: []FindingKey{{Fingerprint: "a", Check: fmt.Sprintf("SEC-%03d", i%20)},
						{Fingerprint: "b", Check: "SEC-020", Advisory: fmt.Sprintf("CVE-2026-%d", i%500)}}}); err != nil {
					return err
				}
				if i%3 != 0 {
					if err := tx.SetApproval(Approval{ImageDigest: d, State: StateApproved, DecidedAt: t0}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStore measures the hot reads on 10,000 images, per backend:
// the "is this digest allowed" lookup (one primary-key query) and pages of
// ListImages.
func BenchmarkStore(b *testing.B) {
	const n = 10000
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := openStore(b, be.dsn(b))
			populate(b, s, n)
			if err := s.Analyze(context.Background()); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.Run("Approval", func(b *testing.B) {
				i := 0
				for b.Loop() {
					i = (i + 7919) % n
					a, err := s.Approval(ctx, fmt.Sprintf("sha256:%064d", i))
					if i%3 != 0 && (err != nil || a.State != StateApproved) {
						b.Fatal(a, err)
					}
				}
			})
			for _, f := range []ImageFilter{
				{},
				{State: StateApproved, Sort: "repository"},
				{Repository: "team/app7"},
				{Check: "SEC-007"},
				{Advisory: "CVE-2026-42"},
			} {
				name := fmt.Sprintf("ListImages/state=%s,repo=%s,check=%s,cve=%s", f.State, f.Repository, f.Check, f.Advisory)
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						rows, total, err := s.ListImages(ctx, f)
						if err != nil || total == 0 || len(rows) == 0 {
							b.Fatal(total, err)
						}
					}
				})
			}
		})
	}
}
