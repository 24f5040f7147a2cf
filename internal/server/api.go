package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// ImageJSON is one image in the API.
type ImageJSON struct {
	Digest       string    `json:"digest"`
	Repository   string    `json:"repository"`
	Tag          string    `json:"tag,omitempty"`
	Kind         string    `json:"kind"`
	IndexDigest  string    `json:"index_digest,omitempty"`
	Platform     string    `json:"platform,omitempty"`
	State        string    `json:"state,omitempty"`
	EvaluationID int64     `json:"evaluation_id,omitempty"`
	Verdict      string    `json:"verdict,omitempty"`
	Grade        string    `json:"grade,omitempty"`
	Score        int       `json:"score,omitempty"`
	EvaluatedAt  time.Time `json:"evaluated_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ApprovalJSON is an approval in the API.
type ApprovalJSON struct {
	State          string    `json:"state"`
	Actor          string    `json:"actor"`
	Reason         string    `json:"reason,omitempty"`
	DecidedAt      time.Time `json:"decided_at"`
	ValidUntil     time.Time `json:"valid_until,omitzero"`
	Signer         string    `json:"signer,omitempty"`
	VerifiedDigest string    `json:"verified_digest,omitempty"`
	EvaluationID   int64     `json:"evaluation_id,omitempty"`
}

func approvalJSON(a store.Approval) *ApprovalJSON {
	return &ApprovalJSON{State: a.State, Actor: a.Actor, Reason: a.Reason, DecidedAt: a.DecidedAt, ValidUntil: a.ValidUntil,
		Signer: a.Signer, VerifiedDigest: a.VerifiedDigest, EvaluationID: a.EvaluationID}
}

// EvaluationJSON summarises one evaluation.
type EvaluationJSON struct {
	ID           int64             `json:"id"`
	Verdict      string            `json:"verdict"`
	Grade        string            `json:"grade"`
	Score        int               `json:"score"`
	PolicyDigest string            `json:"policy_digest"`
	Tool         string            `json:"tool_version"`
	DBVersions   map[string]string `json:"data_versions,omitempty"`
	EvaluatedAt  time.Time         `json:"evaluated_at"`
}

// FindingJSON is one finding key of a diff.
type FindingJSON struct {
	Fingerprint string `json:"fingerprint"`
	Check       string `json:"check"`
	Advisory    string `json:"advisory,omitempty"`
	Severity    string `json:"severity"`
}

// ImageDetailJSON is GET /api/v1/images/{digest}.
type ImageDetailJSON struct {
	Image       ImageJSON        `json:"image"`
	Approval    *ApprovalJSON    `json:"approval"`
	Platforms   []ImageJSON      `json:"platforms,omitempty"`
	Evaluations []EvaluationJSON `json:"evaluations"`
	// Diff is the latest evaluation's findings against the one before.
	Diff struct {
		New      []FindingJSON `json:"new"`
		Resolved []FindingJSON `json:"resolved"`
	} `json:"diff"`
	Report json.RawMessage `json:"report,omitempty"`
}

func summaryJSON(s store.ImageSummary) ImageJSON {
	return ImageJSON{Digest: s.Digest, Repository: s.Repository, Tag: s.Tag, Kind: s.Kind, IndexDigest: s.IndexDigest, Platform: s.Platform,
		State: s.State, EvaluationID: s.EvaluationID, Verdict: s.Verdict, Grade: s.Grade, Score: s.Score, EvaluatedAt: s.EvaluatedAt, UpdatedAt: s.UpdatedAt}
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 50, 1, 1000)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 1<<30)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	state := q.Get("state")
	if state != "" && state != "none" && !validState(state) {
		s.writeError(w, r, http.StatusBadRequest, "state: want one of pending, approved, rejected, expiring, retired, revoked, none; got %q", state)
		return
	}
	f := store.ImageFilter{State: state, Repository: q.Get("repository"), Check: strings.ToUpper(q.Get("check")), Advisory: q.Get("advisory"),
		Sort: q.Get("sort"), Limit: limit, Offset: offset}
	switch f.Sort {
	case "", "updated", "repository", "evaluated", "grade", "score":
	default:
		s.writeError(w, r, http.StatusBadRequest, "sort: want updated, repository, evaluated, grade or score; got %q", f.Sort)
		return
	}
	page, total, err := s.fleet.Store().ListImages(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Total  int         `json:"total"`
		Images []ImageJSON `json:"images"`
	}{Total: total, Images: []ImageJSON{}}
	for _, im := range page {
		out.Images = append(out.Images, summaryJSON(im))
	}
	writeJSON(w, http.StatusOK, out)
}

func validState(s string) bool {
	switch s {
	case store.StatePending, store.StateApproved, store.StateRejected, store.StateExpiring, store.StateRetired, store.StateRevoked:
		return true
	}
	return false
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	d, err := pathDigest(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	st := s.fleet.Store()
	ctx := r.Context()
	im, err := st.Image(ctx, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := ImageDetailJSON{Image: ImageJSON{Digest: im.Digest, Repository: im.Repository, Tag: im.Tag, Kind: im.Kind, IndexDigest: im.IndexDigest,
		Platform: im.Platform, UpdatedAt: im.UpdatedAt}, Evaluations: []EvaluationJSON{}}
	out.Diff.New, out.Diff.Resolved = []FindingJSON{}, []FindingJSON{}
	if a, err := st.Approval(ctx, d); err == nil {
		out.Approval = approvalJSON(a)
		out.Image.State = a.State
	} else if !isNotFound(err) {
		s.fail(w, r, err)
		return
	}
	if im.Kind == "index" {
		ps, err := st.PlatformImages(ctx, d)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, p := range ps {
			out.Platforms = append(out.Platforms, ImageJSON{Digest: p.Digest, Repository: p.Repository, Tag: p.Tag, Kind: p.Kind, IndexDigest: p.IndexDigest, Platform: p.Platform, UpdatedAt: p.UpdatedAt})
		}
	}
	evs, err := st.Evaluations(ctx, d, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range evs {
		out.Evaluations = append(out.Evaluations, EvaluationJSON{ID: e.ID, Verdict: e.Verdict, Grade: e.Grade, Score: e.Score,
			PolicyDigest: e.PolicyDigest, Tool: e.FactsVersion, DBVersions: e.DBVersions, EvaluatedAt: e.EvaluatedAt})
	}
	if len(evs) > 0 {
		latest := evs[0]
		out.Image.EvaluationID, out.Image.Verdict, out.Image.Grade, out.Image.Score, out.Image.EvaluatedAt = latest.ID, latest.Verdict, latest.Grade, latest.Score, latest.EvaluatedAt
		full, err := st.Evaluation(ctx, latest.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Report = full.Report
		cur, err := st.Findings(ctx, latest.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(evs) > 1 {
			prev, err := st.Findings(ctx, evs[1].ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			out.Diff.New, out.Diff.Resolved = diffKeys(prev, cur), diffKeys(cur, prev)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// diffKeys returns the keys of b that a does not have.
func diffKeys(a, b []store.FindingKey) []FindingJSON {
	in := map[string]bool{}
	for _, k := range a {
		in[k.Fingerprint] = true
	}
	out := []FindingJSON{}
	for _, k := range b {
		if !in[k.Fingerprint] {
			out = append(out, FindingJSON{Fingerprint: k.Fingerprint, Check: k.Check, Advisory: k.Advisory, Severity: k.Severity})
		}
	}
	return out
}

func (s *Server) getEvaluation(w http.ResponseWriter, r *http.Request) {
	d, err := pathDigest(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	e, err := s.fleet.Store().Evaluation(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if e.ImageDigest != d {
		s.writeError(w, r, http.StatusNotFound, "evaluation %d is not of image %s", id, d)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.Report)
}

// SubmitRequest is POST /api/v1/images: a reference for the service to read
// from its registry, or the facts a CI job observed itself (shipshape
// observe, with --probe results when it ran the image).
type SubmitRequest struct {
	Image string          `json:"image,omitempty"`
	Facts json.RawMessage `json:"facts,omitempty"`
}

// SubmitResponse is the answer to a submission: the job, and the
// evaluation once it is done.
type SubmitResponse struct {
	Job        *JobJSON          `json:"job,omitempty"`
	Evaluation *fleet.Evaluation `json:"evaluation,omitempty"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	wait, err := queryWait(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	req, err := decode[SubmitRequest](r, w, s.cfg.MaxFactsBody)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	actor := principalOf(r).name
	switch {
	case req.Image != "" && len(req.Facts) > 0:
		s.writeError(w, r, http.StatusBadRequest, "send either image or facts, not both")
		return
	case len(req.Facts) > 0:
		fs, err := facts.Decode(req.Facts)
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, "facts: %v", err)
			return
		}
		ev, err := s.fleet.Record(r.Context(), fs, actor, fleet.ReasonSubmit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.metrics.evaluated(ev)
		s.readYourWrites(r)
		writeJSON(w, http.StatusCreated, SubmitResponse{Evaluation: ev})
		return
	case req.Image == "":
		s.writeError(w, r, http.StatusBadRequest, "send image (a registry reference) or facts (from shipshape observe)")
		return
	}
	if _, err := name.ParseReference(req.Image, name.StrictValidation); err != nil {
		if _, err2 := name.ParseReference(req.Image); err2 != nil {
			s.writeError(w, r, http.StatusBadRequest, "image: %q is not an image reference: %v", req.Image, err2)
			return
		}
	}
	var job store.Enqueued
	err = s.fleet.Store().Tx(r.Context(), func(tx *store.Tx) error {
		var err error
		if job, err = tx.Enqueue(fleet.SubmitArgs{Ref: req.Image, Actor: actor}, store.OnCI(0)); err != nil {
			return err
		}
		_, err = tx.AppendEvent(store.Event{Actor: actor, Action: "image.submitted", Subject: req.Image, Details: mustJSON(map[string]any{"job": job.JobID})})
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerJob(w, r, job.JobID, wait)
}

// answerJob waits up to wait for a job and answers with it (202 while it
// runs, 200 with the evaluation when done, 422 when it failed for good).
func (s *Server) answerJob(w http.ResponseWriter, r *http.Request, id int64, wait time.Duration) {
	deadline := time.Now().Add(wait)
	q := s.fleet.Store().Queue()
	for {
		j, err := q.Job(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		jj := jobJSON(j)
		switch j.State {
		case "completed":
			var ev fleet.Evaluation
			if err := json.Unmarshal(j.Output, &ev); err == nil && ev.Digest != "" {
				s.readYourWrites(r)
				writeJSON(w, http.StatusOK, SubmitResponse{Job: &jj, Evaluation: &ev})
				return
			}
			writeJSON(w, http.StatusOK, SubmitResponse{Job: &jj})
			return
		case "discarded", "cancelled":
			writeJSON(w, http.StatusUnprocessableEntity, SubmitResponse{Job: &jj})
			return
		}
		if !time.Now().Before(deadline) {
			w.Header().Set("Location", fmt.Sprintf("/api/v1/jobs/%d", id))
			writeJSON(w, http.StatusAccepted, SubmitResponse{Job: &jj})
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// DecisionRequest is the body of approve, reject and revoke.
type DecisionRequest struct {
	Reason string `json:"reason"`
	// Force approves an image whose latest evaluation fails, or that was revoked.
	Force bool `json:"force,omitempty"`
}

func (s *Server) decision(d fleet.Decision) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		digest, err := pathDigest(r)
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, "%v", err)
			return
		}
		req := DecisionRequest{}
		if r.ContentLength != 0 {
			if req, err = decode[DecisionRequest](r, w, s.cfg.MaxBody); err != nil {
				s.writeError(w, r, http.StatusBadRequest, "%v", err)
				return
			}
		}
		a, err := s.fleet.Decide(r.Context(), digest, d, principalOf(r).name, req.Reason, req.Force)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.readYourWrites(r)
		writeJSON(w, http.StatusOK, approvalJSON(a))
	}
}

func (s *Server) reevaluate(w http.ResponseWriter, r *http.Request) {
	digest, err := pathDigest(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	wait, err := queryWait(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	if _, err := s.fleet.Store().Facts(r.Context(), digest); err != nil {
		s.fail(w, r, err)
		return
	}
	var job store.Enqueued
	err = s.fleet.Store().Tx(r.Context(), func(tx *store.Tx) error {
		var err error
		job, err = tx.Enqueue(fleet.EvaluateArgs{Digest: digest, Reason: fleet.ReasonManual, Period: time.Now().UTC().Format(time.RFC3339Nano), Actor: principalOf(r).name}, store.OnCI(0))
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerJob(w, r, job.JobID, wait)
}

func (s *Server) sweep(w http.ResponseWriter, r *http.Request) {
	n, err := s.fleet.Sweep(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"enqueued": n})
}
