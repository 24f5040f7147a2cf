package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/store"
)

// Decide records a person's decision (approve, reject, revoke) on an image,
// with the audit event, in one transaction. Approving an image whose latest
// evaluation fails needs force and a reason; so does approving a revoked one.
// The approval keeps the signer and the verified digest of the evaluation.
func (f *Fleet) Decide(ctx context.Context, digest string, d Decision, actor, reason string, force bool) (store.Approval, error) {
	var out store.Approval
	im, err := f.st.Image(ctx, digest)
	if err != nil {
		return out, err
	}
	now := f.Now()
	pol := f.pols.For(im.Repository)
	err = f.st.Tx(ctx, func(tx *store.Tx) error {
		var cur *store.Approval
		if a, err := tx.Approval(ctx, digest); err == nil {
			cur = &a
		} else if !isNotFound(err) {
			return err
		}
		pass := false
		var evalID int64
		if ev, err := tx.LatestEvaluation(ctx, digest); err == nil {
			pass, evalID = ev.Verdict == "PASS", ev.ID
		} else if !isNotFound(err) {
			return err
		} else if d == Approve && !force {
			return conflictf("%s has never been evaluated: submit it first", digest)
		}
		a, err := decide(cur, d, pass, force, actor, reason, pol.Service, now)
		if err != nil {
			return err
		}
		a.ImageDigest = digest
		if a.EvaluationID == 0 {
			a.EvaluationID = evalID
		}
		if d == Approve && force {
			a.Reason = "forced: " + a.Reason
		}
		if err := tx.SetApproval(a); err != nil {
			return err
		}
		prev := ""
		if cur != nil {
			prev = cur.State
		}
		out = a
		if err := appendApprovalEvent(tx, a, prev, actor); err != nil {
			return err
		}
		return f.hookDecision(tx, im, a, prev)
	})
	if err != nil {
		return out, err
	}
	f.changed()
	return out, nil
}

// Exception is an exception as the API takes it.
type Exception struct {
	Check             string    `json:"check,omitempty"`
	Advisory          string    `json:"advisory,omitempty"`
	ImagePattern      string    `json:"image,omitempty"`
	RepositoryPattern string    `json:"repository,omitempty"`
	Owner             string    `json:"owner"`
	Reason            string    `json:"reason"`
	ExpiresAt         time.Time `json:"expires_at,omitzero"`
}

func (e Exception) validate(now time.Time) error {
	if strings.TrimSpace(e.Owner) == "" || strings.TrimSpace(e.Reason) == "" {
		return invalidf("an exception needs an owner and a reason")
	}
	if e.Check == "" && e.Advisory == "" {
		return invalidf("an exception needs a check or an advisory")
	}
	if e.ImagePattern == "" && e.RepositoryPattern == "" {
		return invalidf("an exception needs an image or a repository pattern (\"*\" for every image)")
	}
	if !e.ExpiresAt.IsZero() && !e.ExpiresAt.After(now) {
		return invalidf("expires_at %s is in the past", e.ExpiresAt.Format(time.RFC3339))
	}
	for _, p := range []string{e.ImagePattern, strings.TrimSuffix(e.RepositoryPattern, "/**")} {
		if _, err := pathMatch(p); err != nil {
			return invalidf("bad pattern %q: %v", p, err)
		}
	}
	return nil
}

// CreateException records an exception, its event, and the re-evaluation of
// the images whose latest evaluation has a finding it may waive.
func (f *Fleet) CreateException(ctx context.Context, e Exception, actor string) (store.Exception, error) {
	now := f.Now()
	if err := e.validate(now); err != nil {
		return store.Exception{}, err
	}
	affected, err := f.affected(ctx, e)
	if err != nil {
		return store.Exception{}, err
	}
	se := store.Exception{Check: strings.ToUpper(e.Check), Advisory: e.Advisory, ImagePattern: e.ImagePattern, RepositoryPattern: e.RepositoryPattern,
		Owner: e.Owner, Reason: e.Reason, CreatedBy: actor, CreatedAt: now, ExpiresAt: e.ExpiresAt}
	err = f.st.Tx(ctx, func(tx *store.Tx) error {
		id, err := tx.CreateException(se)
		if err != nil {
			return err
		}
		se.ID = id
		details, _ := json.Marshal(e)
		if _, err := tx.AppendEvent(store.Event{At: now, Actor: actor, Action: "exception.created", Subject: fmt.Sprintf("exception/%d", id), Details: details}); err != nil {
			return err
		}
		for _, d := range affected {
			if _, err := tx.Enqueue(EvaluateArgs{Digest: d, Reason: ReasonException, Period: fmt.Sprint(id), Actor: actor}, store.OnCI(0)); err != nil {
				return err
			}
		}
		return nil
	})
	return se, err
}

// DeleteException removes an exception (its history stays in the event log)
// and re-evaluates the images it may have waived findings of.
func (f *Fleet) DeleteException(ctx context.Context, id int64, actor string) error {
	old, err := f.st.Exception(ctx, id)
	if err != nil {
		return err
	}
	// The findings it waived are not in the evaluations: judge again every
	// image in its scope.
	affected, err := f.affected(ctx, Exception{ImagePattern: old.ImagePattern, RepositoryPattern: old.RepositoryPattern})
	if err != nil {
		return err
	}
	now := f.Now()
	return f.st.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteException(id); err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"check": old.Check, "advisory": old.Advisory, "owner": old.Owner, "reason": old.Reason})
		if _, err := tx.AppendEvent(store.Event{At: now, Actor: actor, Action: "exception.deleted", Subject: fmt.Sprintf("exception/%d", id), Details: details}); err != nil {
			return err
		}
		for _, d := range affected {
			if _, err := tx.Enqueue(EvaluateArgs{Digest: d, Reason: ReasonException, Period: fmt.Sprintf("%d-deleted", id), Actor: actor}, store.OnCI(0)); err != nil {
				return err
			}
		}
		return nil
	})
}

// affected lists the images whose latest evaluation has a finding of e's
// check or advisory, within its patterns.
func (f *Fleet) affected(ctx context.Context, e Exception) ([]string, error) {
	var out []string
	for offset := 0; ; offset += 1000 {
		page, total, err := f.st.ListImages(ctx, store.ImageFilter{Check: strings.ToUpper(e.Check), Advisory: e.Advisory, Limit: 1000, Offset: offset, Sort: "repository"})
		if err != nil {
			return nil, err
		}
		for _, im := range page {
			if e.ImagePattern != "" && !matchImage(e.ImagePattern, im.Digest, im.Repository+":"+im.Tag, im.IndexDigest) {
				continue
			}
			if e.RepositoryPattern != "" && !MatchRepository(e.RepositoryPattern, im.Repository) {
				continue
			}
			out = append(out, im.Digest)
		}
		if offset+len(page) >= total || len(page) == 0 {
			return out, nil
		}
	}
}
