package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// The actor of decisions the service takes by itself.
const actorPolicy = "policy"

// Outcome is what one evaluation means for an approval.
type Outcome struct {
	// Pass is the evaluation's verdict.
	Pass bool
	// Failing summarises why it fails ("SEC-001 USER is not set"), vetoes first.
	Failing []string
	// PastEOL names the end-of-life findings that retire an image at once.
	PastEOL []string
	// Signer and SignedDigest are the verified signature, if any.
	Signer, SignedDigest string
	// EvaluationID is the stored evaluation.
	EvaluationID int64
}

// next is the approval state machine applied to an evaluation: from the
// current approval (nil: none yet) and the outcome, the approval to record,
// or nil to leave it as it is. Transitions:
//
//	none, pending, rejected by policy   -> approved (PASS, auto-approve) | pending (PASS) | rejected by policy (FAIL)
//	approved                            -> approved (PASS) | expiring, valid for the grace (FAIL) | retired (FAIL, grace 0, or past end of life)
//	expiring                            -> approved (PASS) | retired (FAIL past its valid-until, or past end of life)
//	retired, revoked, rejected by a person: unchanged (a person decides again)
func next(cur *store.Approval, o Outcome, svc policy.Service, now time.Time) *store.Approval {
	a := store.Approval{Actor: actorPolicy, DecidedAt: now, EvaluationID: o.EvaluationID, Signer: o.Signer, VerifiedDigest: o.SignedDigest}
	if cur != nil {
		a.ImageDigest = cur.ImageDigest
	}
	validity := func() time.Time {
		if svc.Validity > 0 {
			return now.Add(svc.Validity)
		}
		return time.Time{}
	}
	state := ""
	if cur != nil {
		state = cur.State
	}
	switch state {
	case "", store.StatePending:
		return first(&a, o, svc, validity())
	case store.StateRejected:
		if cur.Actor != actorPolicy {
			return nil
		}
		return first(&a, o, svc, validity())
	case store.StateApproved, store.StateExpiring:
		switch {
		case len(o.PastEOL) > 0:
			a.State, a.Reason = store.StateRetired, "past end of life: "+strings.Join(o.PastEOL, "; ")
		case o.Pass && state == store.StateExpiring:
			a.State, a.Reason, a.ValidUntil = store.StateApproved, "passes again", validity()
		case o.Pass:
			// Still approved: keep who approved it and why, refresh the evidence.
			a = *cur
			a.EvaluationID = o.EvaluationID
			if o.Signer != "" {
				a.Signer, a.VerifiedDigest = o.Signer, o.SignedDigest
			}
			return &a
		case state == store.StateApproved && svc.Grace > 0:
			a.State, a.ValidUntil = store.StateExpiring, now.Add(svc.Grace)
			a.Reason = fmt.Sprintf("now fails (%s); retires on %s unless fixed", strings.Join(o.Failing, "; "), a.ValidUntil.Format(time.DateOnly))
		case state == store.StateExpiring && now.Before(cur.ValidUntil):
			a = *cur
			a.EvaluationID = o.EvaluationID
			return &a
		default:
			a.State, a.Reason = store.StateRetired, "fails: "+strings.Join(o.Failing, "; ")
		}
		if a.Signer == "" {
			a.Signer, a.VerifiedDigest = cur.Signer, cur.VerifiedDigest
		}
		return &a
	}
	return nil
}

func first(a *store.Approval, o Outcome, svc policy.Service, validUntil time.Time) *store.Approval {
	switch {
	case len(o.PastEOL) > 0:
		a.State, a.Reason = store.StateRejected, "past end of life: "+strings.Join(o.PastEOL, "; ")
	case !o.Pass:
		a.State, a.Reason = store.StateRejected, "fails: "+strings.Join(o.Failing, "; ")
	case svc.AutoApprove:
		a.State, a.Reason, a.ValidUntil = store.StateApproved, "passes the policy", validUntil
	default:
		a.State, a.Reason = store.StatePending, "passes the policy; waiting for an approver"
	}
	return a
}

// Decision is a person's decision on an image.
type Decision string

// The decisions a person takes.
const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
	Revoke  Decision = "revoke"
)

// decide checks a person's decision against the current approval and the
// latest verdict, and returns the approval to record.
func decide(cur *store.Approval, d Decision, pass bool, force bool, actor, reason string, svc policy.Service, now time.Time) (store.Approval, error) {
	state := ""
	if cur != nil {
		state = cur.State
	}
	a := store.Approval{Actor: actor, Reason: reason, DecidedAt: now}
	if cur != nil {
		a.ImageDigest, a.EvaluationID, a.Signer, a.VerifiedDigest = cur.ImageDigest, cur.EvaluationID, cur.Signer, cur.VerifiedDigest
	}
	switch d {
	case Approve:
		if state == store.StateApproved {
			return a, conflictf("already approved")
		}
		if state == store.StateRevoked && !force {
			return a, conflictf("the image was revoked (%s): approving it again needs force", cur.Reason)
		}
		if !pass && !force {
			return a, conflictf("its latest evaluation fails the policy: fix the image, add an exception, or approve with force (and a reason)")
		}
		if force && strings.TrimSpace(reason) == "" {
			return a, invalidf("an approval with force needs a reason")
		}
		a.State = store.StateApproved
		if svc.Validity > 0 {
			a.ValidUntil = now.Add(svc.Validity)
		}
	case Reject:
		if state != "" && state != store.StatePending && state != store.StateRejected {
			return a, conflictf("only a pending image can be rejected (it is %s): revoke it instead", state)
		}
		a.State = store.StateRejected
	case Revoke:
		if state == store.StateRevoked {
			return a, conflictf("already revoked")
		}
		if strings.TrimSpace(reason) == "" {
			return a, invalidf("a revocation needs a reason")
		}
		a.State = store.StateRevoked
	default:
		return a, invalidf("unknown decision %q (approve, reject, revoke)", d)
	}
	return a, nil
}
