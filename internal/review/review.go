// Package review builds the quarterly review a platform team signs off:
// every production image (approved or expiring) with its verdict at the
// start of the period and now, what was retired or revoked since and why,
// what expires in the next quarter (approvals and exceptions), and the
// exceptions granted since and by whom. It reads the store only (the
// evaluations, the approvals, the exceptions and the audit log), and renders
// JSON, Markdown, HTML and CSV.
package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// Review is the quarterly review.
type Review struct {
	// Since is the start of the period; Now when the review was made;
	// Until the end of the next quarter (Now + 3 months).
	Since time.Time `json:"since"`
	Now   time.Time `json:"generated_at"`
	Until time.Time `json:"until"`
	// Production is every image approved or expiring now, by repository.
	Production []Image `json:"production"`
	// Ended are the retirements and revocations since Since, oldest first.
	Ended []Ended `json:"retired_or_revoked"`
	// Expiring are the approvals and exceptions that expire before Until,
	// soonest first.
	Expiring []Expiry `json:"expiring"`
	// Granted are the exceptions created since Since, oldest first.
	Granted []Granted `json:"exceptions_granted"`
}

// Verdict is one evaluation's outcome.
type Verdict struct {
	EvaluationID int64     `json:"evaluation_id"`
	Verdict      string    `json:"verdict"`
	Grade        string    `json:"grade"`
	Score        int       `json:"score"`
	EvaluatedAt  time.Time `json:"evaluated_at"`
}

func (v *Verdict) String() string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%s %s (%d)", v.Verdict, v.Grade, v.Score)
}

// Image is a production image.
type Image struct {
	Digest     string    `json:"digest"`
	Repository string    `json:"repository"`
	Tag        string    `json:"tag,omitempty"`
	State      string    `json:"state"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// StateThen is the approval state at Since ("" when it had none: it
	// was submitted later).
	StateThen string `json:"state_then"`
	// Then is the evaluation in force at Since (nil: not evaluated yet);
	// Now the latest.
	Then *Verdict `json:"then"`
	Now  *Verdict `json:"now"`
	// Failing is what the latest evaluation fails, vetoes first.
	Failing []string `json:"failing"`
}

// Name is repository:tag.
func (im Image) Name() string { return name(im.Repository, im.Tag, im.Digest) }

// Changed: the verdict or grade differs between then and now.
func (im Image) Changed() bool {
	if im.Then == nil || im.Now == nil {
		return im.Then != im.Now
	}
	return im.Then.Verdict != im.Now.Verdict || im.Then.Grade != im.Now.Grade
}

// Ended is a retirement or a revocation.
type Ended struct {
	Digest     string    `json:"digest"`
	Repository string    `json:"repository"`
	Tag        string    `json:"tag,omitempty"`
	State      string    `json:"state"` // retired or revoked
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Reason     string    `json:"reason"`
	// StateNow is the image's approval state now (approved again, ...).
	StateNow string `json:"state_now"`
}

// Name is repository:tag.
func (e Ended) Name() string { return name(e.Repository, e.Tag, e.Digest) }

// Expiry is an approval or an exception that expires before Until.
type Expiry struct {
	Kind string    `json:"kind"` // approval or exception
	At   time.Time `json:"at"`
	// For an approval: the image and its state.
	Digest     string `json:"digest,omitempty"`
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	State      string `json:"state,omitempty"`
	// For an exception: its ID, what it waives, where, and its owner.
	Exception int64  `json:"exception,omitempty"`
	Waives    string `json:"waives,omitempty"`
	Scope     string `json:"scope,omitempty"`
	Owner     string `json:"owner,omitempty"`
	Reason    string `json:"reason"`
}

// Subject names what expires.
func (e Expiry) Subject() string {
	if e.Kind == "exception" {
		return fmt.Sprintf("exception %d: %s for %s (owner %s)", e.Exception, e.Waives, e.Scope, e.Owner)
	}
	return name(e.Repository, e.Tag, e.Digest)
}

// Granted is an exception created in the period.
type Granted struct {
	ID        int64     `json:"id"`
	Waives    string    `json:"waives"`
	Scope     string    `json:"scope"`
	Owner     string    `json:"owner"`
	Reason    string    `json:"reason"`
	By        string    `json:"granted_by"`
	At        time.Time `json:"granted_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Status is active, expired or deleted.
	Status string `json:"status"`
}

func name(repo, tag, digest string) string {
	switch {
	case repo != "" && tag != "":
		return repo + ":" + tag
	case repo != "":
		return repo + "@" + digest
	}
	return digest
}

// ErrInvalid is a bad request (a since in the future).
var ErrInvalid = errors.New("invalid")

// Build makes the review of the period from since to now.
func Build(ctx context.Context, st *store.Store, since, now time.Time) (*Review, error) {
	since, now = since.UTC(), now.UTC()
	if since.After(now) {
		return nil, fmt.Errorf("%w: since %s is in the future", ErrInvalid, since.Format(time.DateOnly))
	}
	r := &Review{Since: since, Now: now, Until: now.AddDate(0, 3, 0), Production: []Image{}, Ended: []Ended{}, Expiring: []Expiry{}, Granted: []Granted{}}
	if err := r.production(ctx, st); err != nil {
		return nil, err
	}
	if err := r.ended(ctx, st); err != nil {
		return nil, err
	}
	if err := r.expiring(ctx, st); err != nil {
		return nil, err
	}
	if err := r.granted(ctx, st); err != nil {
		return nil, err
	}
	return r, nil
}

func verdictOf(e store.Evaluation) *Verdict {
	return &Verdict{EvaluationID: e.ID, Verdict: e.Verdict, Grade: e.Grade, Score: e.Score, EvaluatedAt: e.EvaluatedAt}
}

func (r *Review) production(ctx context.Context, st *store.Store) error {
	for _, state := range []string{store.StateApproved, store.StateExpiring} {
		for offset := 0; ; offset += 1000 {
			page, total, err := st.ListImages(ctx, store.ImageFilter{State: state, Sort: "repository", Limit: 1000, Offset: offset})
			if err != nil {
				return err
			}
			for _, s := range page {
				im := Image{Digest: s.Digest, Repository: s.Repository, Tag: s.Tag, State: s.State, Failing: []string{}}
				if a, err := st.Approval(ctx, s.Digest); err == nil {
					im.ValidUntil = a.ValidUntil
				}
				evs, err := st.Evaluations(ctx, s.Digest, 0)
				if err != nil {
					return err
				}
				if len(evs) > 0 {
					im.Now = verdictOf(evs[0])
					if evs[0].Verdict != "PASS" {
						im.Failing = failing(evs[0].Report)
					}
				}
				for _, e := range evs { // newest first
					if !e.EvaluatedAt.After(r.Since) {
						im.Then = verdictOf(e)
						break
					}
				}
				if im.StateThen, err = stateAt(ctx, st, s.Digest, r.Since); err != nil {
					return err
				}
				r.Production = append(r.Production, im)
			}
			if offset+len(page) >= total || len(page) == 0 {
				break
			}
		}
	}
	slices.SortStableFunc(r.Production, func(a, b Image) int { return strings.Compare(a.Name(), b.Name()) })
	return nil
}

// stateAt is the approval state of digest at t, from the audit log.
func stateAt(ctx context.Context, st *store.Store, digest string, t time.Time) (string, error) {
	evs, err := st.Events(ctx, store.EventFilter{Subject: digest, Until: t.Add(time.Microsecond), Newest: true, Limit: 1000})
	if err != nil {
		return "", err
	}
	for _, e := range evs {
		if s, ok := strings.CutPrefix(e.Action, "approval."); ok {
			return s, nil
		}
	}
	return "", nil
}

func failing(report json.RawMessage) []string {
	var r struct {
		Verdict finding.Verdict `json:"verdict"`
	}
	out := []string{}
	if json.Unmarshal(report, &r) != nil {
		return out
	}
	for _, fs := range [][]finding.Finding{r.Verdict.Vetoes, r.Verdict.Failing} {
		for _, f := range fs {
			s := f.CheckID + " " + f.Title
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func (r *Review) ended(ctx context.Context, st *store.Store) error {
	for _, action := range []string{"approval." + store.StateRetired, "approval." + store.StateRevoked} {
		evs, err := st.Events(ctx, store.EventFilter{Action: action, Since: r.Since, Limit: 10000})
		if err != nil {
			return err
		}
		for _, e := range evs {
			var d struct {
				Reason string `json:"reason"`
			}
			_ = json.Unmarshal(e.Details, &d)
			x := Ended{Digest: e.Subject, State: strings.TrimPrefix(action, "approval."), At: e.At, Actor: e.Actor, Reason: d.Reason}
			if im, err := st.Image(ctx, e.Subject); err == nil {
				x.Repository, x.Tag = im.Repository, im.Tag
			}
			if a, err := st.Approval(ctx, e.Subject); err == nil {
				x.StateNow = a.State
			}
			r.Ended = append(r.Ended, x)
		}
	}
	slices.SortStableFunc(r.Ended, func(a, b Ended) int { return a.At.Compare(b.At) })
	return nil
}

func waives(check, advisory string) string {
	return strings.TrimSpace(check + " " + advisory)
}

func scope(image, repository string) string {
	return strings.TrimSpace(strings.TrimSpace(repository + " " + image))
}

func (r *Review) expiring(ctx context.Context, st *store.Store) error {
	as, err := st.ExpiringApprovals(ctx, r.Until, store.StateApproved, store.StateExpiring)
	if err != nil {
		return err
	}
	for _, a := range as {
		x := Expiry{Kind: "approval", At: a.ValidUntil, Digest: a.ImageDigest, State: a.State, Reason: a.Reason}
		if im, err := st.Image(ctx, a.ImageDigest); err == nil {
			x.Repository, x.Tag = im.Repository, im.Tag
		}
		r.Expiring = append(r.Expiring, x)
	}
	exs, err := st.Exceptions(ctx, store.ExceptionFilter{ActiveAt: r.Now})
	if err != nil {
		return err
	}
	for _, e := range exs {
		if e.ExpiresAt.IsZero() || e.ExpiresAt.After(r.Until) {
			continue
		}
		r.Expiring = append(r.Expiring, Expiry{Kind: "exception", At: e.ExpiresAt, Exception: e.ID, Waives: waives(e.Check, e.Advisory),
			Scope: scope(e.ImagePattern, e.RepositoryPattern), Owner: e.Owner, Reason: e.Reason})
	}
	slices.SortStableFunc(r.Expiring, func(a, b Expiry) int { return a.At.Compare(b.At) })
	return nil
}

func (r *Review) granted(ctx context.Context, st *store.Store) error {
	evs, err := st.Events(ctx, store.EventFilter{Action: "exception.created", Since: r.Since, Limit: 10000})
	if err != nil {
		return err
	}
	for _, e := range evs {
		var d struct {
			Check             string    `json:"check"`
			Advisory          string    `json:"advisory"`
			ImagePattern      string    `json:"image"`
			RepositoryPattern string    `json:"repository"`
			Owner             string    `json:"owner"`
			Reason            string    `json:"reason"`
			ExpiresAt         time.Time `json:"expires_at"`
		}
		_ = json.Unmarshal(e.Details, &d)
		var id int64
		_, _ = fmt.Sscanf(e.Subject, "exception/%d", &id)
		g := Granted{ID: id, Waives: waives(strings.ToUpper(d.Check), d.Advisory), Scope: scope(d.ImagePattern, d.RepositoryPattern), Owner: d.Owner,
			Reason: d.Reason, By: e.Actor, At: e.At, ExpiresAt: d.ExpiresAt, Status: "deleted"}
		if cur, err := st.Exception(ctx, id); err == nil {
			g.ExpiresAt, g.Status = cur.ExpiresAt, "active"
			if !cur.ExpiresAt.IsZero() && !r.Now.Before(cur.ExpiresAt) {
				g.Status = "expired"
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		r.Granted = append(r.Granted, g)
	}
	return nil
}
