package fleet

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// Change is one change of an image's approval, or an evaluation that found
// new vetoes, as a Hook sees it inside the transaction that records it.
type Change struct {
	At         time.Time
	Actor      string
	Digest     string
	Repository string
	Tag        string
	// State is the approval state after the change, Previous before it
	// ("" when the image had none); equal when only NewVetoes changed.
	State, Previous string
	// Reason is the approval's reason ("fails: ...", "leaked key").
	Reason string
	// Failing is what the image's latest evaluation fails, vetoes first,
	// as "CHECK title".
	Failing []string
	// EvaluationID is the evaluation the change was made on (0: none).
	EvaluationID int64
	// NewVetoes are the vetoes ("CHECK title") of this evaluation whose
	// findings the image's previous evaluation did not have.
	NewVetoes []string
	// ByEvaluation: the change follows an evaluation (else a person's decision).
	ByEvaluation bool
}

// Hook is called with every Change in the transaction that commits it, so
// whatever it enqueues (webhook deliveries) exists if and only if the change
// does. An error rolls the change back.
type Hook interface {
	Change(tx *store.Tx, c Change) error
}

// WithHook sets the hook that sees every change (internal/notify).
func WithHook(h Hook) Option { return func(f *Fleet) { f.hook = h } }

// hookEvaluation tells the hook about an evaluation just recorded in tx,
// when it moved the approval or found new vetoes.
func (f *Fleet) hookEvaluation(tx *store.Tx, ev *Evaluation, rep *report.Report, actor string, now time.Time) error {
	if f.hook == nil {
		return nil
	}
	var vetoes []string
	for _, fd := range rep.Verdict.Vetoes {
		s := fd.CheckID + " " + fd.Title
		if fd.Fingerprint != "" && slices.Contains(ev.New, fd.Fingerprint) && !slices.Contains(vetoes, s) {
			vetoes = append(vetoes, s)
		}
	}
	if ev.State == ev.Previous && len(vetoes) == 0 {
		return nil
	}
	c := Change{At: now, Actor: actor, Digest: ev.Digest, Repository: ev.Repository, Tag: ev.Tag, State: ev.State, Previous: ev.Previous,
		Failing: ev.Failing, EvaluationID: ev.EvaluationID, NewVetoes: vetoes, ByEvaluation: true}
	if a, err := tx.Approval(context.Background(), ev.Digest); err == nil {
		c.Reason = a.Reason
		if ev.State != ev.Previous {
			c.Actor = a.Actor
		}
	}
	return f.hook.Change(tx, c)
}

// hookDecision tells the hook about a person's decision just recorded in tx.
func (f *Fleet) hookDecision(tx *store.Tx, im store.Image, a store.Approval, previous string) error {
	if f.hook == nil {
		return nil
	}
	c := Change{At: a.DecidedAt, Actor: a.Actor, Digest: a.ImageDigest, Repository: im.Repository, Tag: im.Tag, State: a.State,
		Previous: previous, Reason: a.Reason, EvaluationID: a.EvaluationID}
	if a.EvaluationID != 0 {
		if ev, err := tx.Evaluation(context.Background(), a.EvaluationID); err == nil {
			var r struct {
				Verdict finding.Verdict `json:"verdict"`
			}
			if json.Unmarshal(ev.Report, &r) == nil {
				c.Failing = failing(r.Verdict)
			}
		}
	}
	return f.hook.Change(tx, c)
}
