package policy

import (
	"testing"

	"github.com/shipshape-dev/shipshape/internal/checks"
)

func res(id string, d checks.Dimension, st checks.Status, fs ...checks.Finding) checks.Result {
	for i := range fs {
		fs[i].CheckID = id
		fs[i].Dimension = d
	}
	return checks.Result{Check: checks.Meta{ID: id, Dimension: d}, Status: st, Findings: fs}
}

func TestEvaluate(t *testing.T) {
	results := []checks.Result{
		res("SEC-001", checks.Security, checks.Fail, checks.Finding{Severity: checks.Critical, Veto: true, Title: "root"}),
		res("SEC-003", checks.Security, checks.Fail, checks.Finding{Severity: checks.Medium}, checks.Finding{Severity: checks.Medium}),
		res("SEC-008", checks.Security, checks.Pass, checks.Finding{Severity: checks.Info}),
		res("REL-002", checks.Reliability, checks.Fail, checks.Finding{Severity: checks.High}),
		res("MNT-003", checks.Maintainability, checks.Skipped),
		res("CMP-005", checks.Compliance, checks.Pass),
	}
	v := Evaluate(results, Default())
	if v.Pass || len(v.Vetoes) != 1 || v.Grade != "F" {
		t.Fatalf("a veto fails: %+v", v)
	}
	if v.Scores[checks.Security] != 50 || v.Scores[checks.Reliability] != 80 || v.Scores[checks.Compliance] != 100 {
		t.Errorf("scores %+v", v.Scores)
	}
	if _, ok := v.Scores[checks.Maintainability]; ok {
		t.Error("a dimension with only skipped checks has no score")
	}
	if v.Score != (50+80+100+1)/3 {
		t.Errorf("overall %d", v.Score)
	}

	noVeto := results[1:]
	v = Evaluate(noVeto, Default())
	if !v.Pass || v.Grade != "A" || v.Score != 90 {
		t.Errorf("without vetoes the default policy passes: %+v", v)
	}
	high := checks.High
	v = Evaluate(noVeto, &Policy{FailOn: &high})
	if v.Pass || len(v.Failing) != 1 || v.Failing[0].CheckID != "REL-002" || v.FailOn != "high" {
		t.Errorf("--fail-on high: %+v", v)
	}
}

func TestGrade(t *testing.T) {
	for _, c := range []struct {
		score int
		veto  bool
		want  string
	}{{100, false, "A"}, {90, false, "A"}, {89, false, "B"}, {70, false, "C"}, {60, false, "D"}, {55, false, "E"}, {10, false, "F"}, {100, true, "F"}} {
		if g := Grade(c.score, c.veto); g != c.want {
			t.Errorf("Grade(%d,%v)=%s want %s", c.score, c.veto, g, c.want)
		}
	}
}
