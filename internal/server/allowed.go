package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// AllowedJSON is GET /api/v1/allowed: whether an image may be deployed, and why.
type AllowedJSON struct {
	Image   string `json:"image"`
	Allowed bool   `json:"allowed"`
	// Digest is the image's digest: from the reference, or the digest last
	// submitted under its tag (ResolvedFrom says which).
	Digest       string `json:"digest,omitempty"`
	ResolvedFrom string `json:"resolved_from,omitempty"`
	// State is the governing approval's state, "unknown" when the service
	// has never seen the image.
	State string `json:"state"`
	// ApprovalDigest is the digest the governing approval was given for (the
	// image, its index, or one of its platform images).
	ApprovalDigest string    `json:"approval_digest,omitempty"`
	Reason         string    `json:"reason"`
	FailingChecks  []string  `json:"failing_checks,omitempty"`
	ValidUntil     time.Time `json:"valid_until,omitzero"`
	Signer         string    `json:"signer,omitempty"`
}

// allowed answers from the in-memory view: no registry, no store query.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { s.metrics.allowedLatency.Observe(time.Since(start).Seconds()) }()
	ref := r.URL.Query().Get("image")
	if ref == "" {
		s.writeError(w, r, http.StatusBadRequest, "query parameter image is required, e.g. ?image=registry.example.com/team/app@sha256:...")
		return
	}
	out, err := s.Allowed(r.Context(), ref)
	if err != nil {
		if err == errBadRef {
			s.writeError(w, r, http.StatusBadRequest, "image: %q is not an image reference", ref)
			return
		}
		s.writeError(w, r, http.StatusServiceUnavailable, "cannot decide now: %v", err)
		return
	}
	s.metrics.allowed.WithLabelValues(fmt.Sprint(out.Allowed), out.State).Inc()
	writeJSON(w, http.StatusOK, out)
}

var errBadRef = fmt.Errorf("bad reference")

// Allowed decides whether ref may be deployed, from the view.
func (s *Server) Allowed(ctx context.Context, ref string) (AllowedJSON, error) {
	out := AllowedJSON{Image: ref, State: "unknown"}
	parsed, digest, err := admission.ParseRef(ref)
	if err != nil {
		return out, errBadRef
	}
	out.Digest, out.ResolvedFrom = digest, "digest"
	if digest == "" {
		tag, _ := parsed.(name.Tag)
		d, ok := (*s.tags.Load())[tag.Context().Name()+":"+tag.TagStr()]
		if !ok {
			out.Reason = fmt.Sprintf("the service has no image submitted as %s: submit it (shipshape submit), and deploy by digest", tag.Name())
			return out, nil
		}
		out.Digest, out.ResolvedFrom = d, "tag as last submitted (deploy by digest to be sure)"
	}
	a, found, err := s.view.Lookup(ctx, out.Digest)
	if err != nil {
		return out, err
	}
	if !found {
		out.Reason = "the service has no approval for this digest: submit the image"
		return out, nil
	}
	out.State, out.ApprovalDigest, out.ValidUntil, out.Signer, out.FailingChecks = string(a.State), a.Digest, a.ValidUntil, a.Signer, a.FailingChecks
	out.Allowed = a.AdmitsAt(time.Now())
	switch {
	case out.Allowed && a.State == admission.StateExpiring:
		out.Reason = "approved, but expiring: " + a.Reason
	case out.Allowed:
		out.Reason = "approved"
		if a.Reason != "" {
			out.Reason += ": " + a.Reason
		}
	case a.State.Admits():
		out.Reason = fmt.Sprintf("the approval ended on %s", a.ValidUntil.Format(time.RFC3339))
	default:
		out.Reason = a.Reason
		if out.Reason == "" {
			out.Reason = string(a.State)
		}
	}
	return out, nil
}

// resolveKnown resolves a tag to the digest last submitted under it (the
// admission resolver when no registry resolver is configured).
func (s *Server) resolveKnown(ctx context.Context, ref string) (string, error) {
	parsed, digest, err := admission.ParseRef(ref)
	if err != nil {
		return "", err
	}
	if digest != "" {
		return digest, nil
	}
	tag, _ := parsed.(name.Tag)
	if d, ok := (*s.tags.Load())[tag.Context().Name()+":"+tag.TagStr()]; ok {
		return d, nil
	}
	return "", fmt.Errorf("tag %s was never submitted to shipshape: submit it, or deploy by digest", tag.Name())
}

// recordAdmission counts a decision and keeps denials in the event log
// (written in the background: the request path never waits on the store).
func (s *Server) recordAdmission(ctx context.Context, d admission.Decision) {
	s.metrics.admission.WithLabelValues(string(d.Outcome), d.Namespace, d.Reason).Inc()
	s.metrics.admissionLatency.WithLabelValues(d.Endpoint).Observe(d.Latency.Seconds())
	if d.Outcome != admission.OutcomeDenied && d.Outcome != admission.OutcomeWarned && d.BreakGlass == "" {
		return
	}
	select {
	case s.admissionEvents <- d:
	default:
		s.metrics.droppedEvents.Inc()
	}
}

// writeAdmissionEvents drains recorded denials into the event log.
func (s *Server) writeAdmissionEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-s.admissionEvents:
			action := "admission." + string(d.Outcome)
			if d.BreakGlass != "" {
				action = "admission.break-glass"
			}
			subject := d.Namespace + "/" + d.Name
			details := mustJSON(map[string]any{"kind": d.Kind, "uid": d.UID, "user": d.User, "mode": d.Mode, "reason": d.Reason,
				"message": d.Message, "break_glass": d.BreakGlass, "images": d.Images})
			err := s.fleet.Store().Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.AppendEvent(store.Event{At: d.Time, Actor: "admission", Action: action, Subject: subject, Details: details})
				return err
			})
			if err != nil && ctx.Err() == nil {
				s.log.Warn("recording an admission decision", "err", err)
			}
		}
	}
}
