package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// ExceptionJSON is an exception in the API.
type ExceptionJSON struct {
	ID int64 `json:"id"`
	fleet.Exception
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Expired exceptions no longer apply; they are listed so nobody is surprised.
	Expired bool `json:"expired"`
}

func (s *Server) exceptionJSON(e store.Exception) ExceptionJSON {
	return ExceptionJSON{ID: e.ID, Exception: fleet.Exception{Check: e.Check, Advisory: e.Advisory, ImagePattern: e.ImagePattern,
		RepositoryPattern: e.RepositoryPattern, Owner: e.Owner, Reason: e.Reason, ExpiresAt: e.ExpiresAt},
		CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt, Expired: !e.ExpiresAt.IsZero() && !s.fleet.Now().Before(e.ExpiresAt)}
}

func (s *Server) listExceptions(w http.ResponseWriter, r *http.Request) {
	f := store.ExceptionFilter{Check: strings.ToUpper(r.URL.Query().Get("check")), Advisory: r.URL.Query().Get("advisory")}
	if r.URL.Query().Get("active") == "true" {
		f.ActiveAt = s.fleet.Now()
	}
	exs, err := s.fleet.Store().Exceptions(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []ExceptionJSON{}
	for _, e := range exs {
		out = append(out, s.exceptionJSON(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"exceptions": out})
}

func (s *Server) createException(w http.ResponseWriter, r *http.Request) {
	req, err := decode[fleet.Exception](r, w, s.cfg.MaxBody)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	e, err := s.fleet.CreateException(r.Context(), req, principalOf(r).name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/exceptions/%d", e.ID))
	writeJSON(w, http.StatusCreated, s.exceptionJSON(e))
}

func (s *Server) getException(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	e, err := s.fleet.Store().Exception(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.exceptionJSON(e))
}

func (s *Server) deleteException(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	if err := s.fleet.DeleteException(r.Context(), id, principalOf(r).name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// EventJSON is one audit event.
type EventJSON struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
	Details any       `json:"details"`
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100, 1, 10000)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	evs, err := s.fleet.Store().Events(r.Context(), store.EventFilter{Subject: q.Get("subject"), Actor: q.Get("actor"), Action: q.Get("action"),
		AfterID: int64(after), Newest: after == 0, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []EventJSON{}
	for _, e := range evs {
		out = append(out, EventJSON{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Subject: e.Subject, Details: rawOrNil(e.Details)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func rawOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return jsonRaw(b)
}

type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }

// JobJSON is a job in the API.
type JobJSON struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Queue       string    `json:"queue"`
	State       string    `json:"state"`
	Attempt     int       `json:"attempt"`
	MaxAttempts int       `json:"max_attempts"`
	Errors      []string  `json:"errors,omitempty"`
	Args        any       `json:"args"`
	Output      any       `json:"output,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	FinalizedAt time.Time `json:"finalized_at,omitzero"`
}

func jobJSON(j store.Job) JobJSON {
	return JobJSON{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		Errors: j.Errors, Args: rawOrNil(j.Args), Output: rawOrNil(j.Output), CreatedAt: j.CreatedAt, FinalizedAt: j.FinalizedAt}
}

var jobStates = []string{"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending"}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	f := store.JobFilter{Queue: q.Get("queue"), Kind: q.Get("kind"), Limit: limit}
	if st := q.Get("state"); st != "" {
		for _, one := range strings.Split(st, ",") {
			ok := false
			for _, v := range jobStates {
				ok = ok || v == one
			}
			if !ok {
				s.writeError(w, r, http.StatusBadRequest, "state: want one of %s; got %q", strings.Join(jobStates, ", "), one)
				return
			}
			f.States = append(f.States, one)
		}
	}
	jobs, err := s.fleet.Store().Queue().Jobs(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []JobJSON{}
	for _, j := range jobs {
		out = append(out, jobJSON(j))
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	wait, err := queryWait(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	if wait > 0 {
		s.answerJob(w, r, id, wait)
		return
	}
	j, err := s.fleet.Store().Queue().Job(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobJSON(j))
}

func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) { s.jobAction(w, r, "retry") }

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) { s.jobAction(w, r, "cancel") }

func (s *Server) jobAction(w http.ResponseWriter, r *http.Request, action string) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	q := s.fleet.Store().Queue()
	if action == "retry" {
		err = q.RetryJob(r.Context(), id)
	} else {
		err = q.CancelJob(r.Context(), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_ = s.fleet.Store().Tx(r.Context(), func(tx *store.Tx) error {
		_, err := tx.AppendEvent(store.Event{Actor: principalOf(r).name, Action: "job." + action, Subject: fmt.Sprintf("job/%d", id)})
		return err
	})
	j, err := q.Job(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobJSON(j))
}
