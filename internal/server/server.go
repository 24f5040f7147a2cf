// Package server is the HTTP side of shipshape serve: routing (net/http's
// method and path patterns), bearer-token auth with roles, JSON in and out,
// the OpenAPI document, /metrics, and the admission webhook's endpoints.
// Handlers call internal/fleet; they never write SQL. The allow decision
// (GET /api/v1/allowed and admission) answers from an in-memory view of the
// approvals, refreshed after every change and polled from the store.
package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// Config configures a Server.
type Config struct {
	// Fleet is the service's domain (required).
	Fleet *fleet.Fleet
	// Admission, when set, serves the webhook on /admission/v1/validate
	// (and /admission/v1/mutate when its EnableMutation is set).
	Admission *admission.Config
	// Resolver turns tags in pod specs into digests for admission; nil uses
	// the tags last submitted to the service only.
	Resolver admission.Resolver
	// Refresh is how often the approval view is reloaded from the store, for
	// changes made by other processes (default 5 s).
	Refresh time.Duration
	// MaxAge: the view stops answering (deny in enforce mode) when it could
	// not be refreshed for this long (default 2 min).
	MaxAge time.Duration
	// MaxReviews bounds the admission reviews decided at once (default 8
	// per CPU); more wait up to a second, then get 503.
	MaxReviews int
	// MaxBody bounds a JSON request body (default 1 MiB); MaxFactsBody
	// bounds a submission that carries facts (default 256 MiB).
	MaxBody, MaxFactsBody int64
	// Log receives the server's logs (slog.Default() when nil).
	Log *slog.Logger
}

// Server serves the API.
type Server struct {
	fleet   *fleet.Fleet
	cfg     Config
	log     *slog.Logger
	view    *admission.MemView
	tags    atomic.Pointer[map[string]string]
	adm     *admission.Handler
	limiter *failureLimiter
	metrics *metrics
	mux     *http.ServeMux

	admissionEvents chan admission.Decision
	// admissionSlots bounds the reviews decided at once.
	admissionSlots chan struct{}

	tokens sync.Map // token hash -> cachedToken
	// tokenRefresh holds the hashes whose expired entry is being read again.
	tokenRefresh sync.Map
	tokenCount   atomic.Int64
	refreshNow   chan struct{}
}

// New returns a server; call Run to keep its view fresh.
func New(cfg Config) (*Server, error) {
	if cfg.Fleet == nil {
		return nil, errors.New("server: a fleet is required")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 2 * time.Minute
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxFactsBody <= 0 {
		cfg.MaxFactsBody = 256 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{fleet: cfg.Fleet, cfg: cfg, log: cfg.Log, view: &admission.MemView{MaxAge: cfg.MaxAge},
		limiter: newFailureLimiter(10, time.Minute), refreshNow: make(chan struct{}, 1),
		admissionEvents: make(chan admission.Decision, 1024), admissionSlots: make(chan struct{}, cmp.Or(cfg.MaxReviews, 8*runtime.GOMAXPROCS(0)))}
	empty := map[string]string{}
	s.tags.Store(&empty)
	s.metrics = newMetrics(s)
	if cfg.Admission != nil {
		res := cfg.Resolver
		if res == nil {
			res = admission.ResolverFunc(s.resolveKnown)
		}
		h, err := admission.NewHandler(*cfg.Admission, s.view, res, admission.RecorderFunc(s.recordAdmission))
		if err != nil {
			return nil, fmt.Errorf("admission: %w", err)
		}
		s.adm = h
	}
	s.routes()
	return s, nil
}

// Changed asks for an immediate refresh of the view (the fleet's
// WithOnChange hook).
func (s *Server) Changed() {
	select {
	case s.refreshNow <- struct{}{}:
	default:
	}
}

// Refresh reloads the approval view from the store now.
func (s *Server) Refresh(ctx context.Context) error {
	snap, err := s.fleet.Snapshot(ctx)
	if err != nil {
		return err
	}
	s.view.Replace(snap.Approvals)
	s.tags.Store(&snap.Tags)
	return nil
}

// readYourWrites refreshes the view before a write's answer, so that the
// caller's next GET /api/v1/allowed sees what it just did.
func (s *Server) readYourWrites(r *http.Request) {
	if err := s.Refresh(r.Context()); err != nil {
		s.log.Warn("refreshing the approval view after a write", "err", err)
	}
}

// Run keeps the view fresh until ctx ends: after every change in this
// process, and every Refresh interval for the others.
func (s *Server) Run(ctx context.Context) {
	go s.writeAdmissionEvents(ctx)
	t := time.NewTicker(s.cfg.Refresh)
	defer t.Stop()
	for {
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("refreshing the approval view", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.refreshNow:
		}
	}
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// route registers a handler that needs role (empty: no token).
func (s *Server) route(pattern, role string, h func(w http.ResponseWriter, r *http.Request)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in handler", "pattern", pattern, "panic", p)
				s.writeError(w, r, http.StatusInternalServerError, "internal error: this is a bug in shipshape")
			}
		}()
		if role != "" {
			var ok bool
			if r, ok = s.authenticate(w, r, role); !ok {
				return
			}
		}
		h(w, r)
	})
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.route("GET /healthz", "", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.route("GET /readyz", "", s.ready)
	s.route("GET /metrics", "", s.metrics.serve)
	s.route("GET /api/v1/openapi.json", "", s.openAPI)
	s.route("GET /api/v1/allowed", store.RoleViewer, s.allowed)
	s.route("GET /api/v1/images", store.RoleViewer, s.listImages)
	s.route("POST /api/v1/images", store.RoleSubmitter, s.submit)
	s.route("GET /api/v1/images/{digest}", store.RoleViewer, s.getImage)
	s.route("GET /api/v1/images/{digest}/evaluations/{id}", store.RoleViewer, s.getEvaluation)
	s.route("POST /api/v1/images/{digest}/approve", store.RoleApprover, s.decision(fleet.Approve))
	s.route("POST /api/v1/images/{digest}/reject", store.RoleApprover, s.decision(fleet.Reject))
	s.route("POST /api/v1/images/{digest}/revoke", store.RoleApprover, s.decision(fleet.Revoke))
	s.route("POST /api/v1/images/{digest}/reevaluate", store.RoleSubmitter, s.reevaluate)
	s.route("GET /api/v1/exceptions", store.RoleViewer, s.listExceptions)
	s.route("POST /api/v1/exceptions", store.RoleApprover, s.createException)
	s.route("GET /api/v1/exceptions/{id}", store.RoleViewer, s.getException)
	s.route("DELETE /api/v1/exceptions/{id}", store.RoleApprover, s.deleteException)
	s.route("GET /api/v1/events", store.RoleViewer, s.listEvents)
	s.route("GET /api/v1/jobs", store.RoleViewer, s.listJobs)
	s.route("GET /api/v1/jobs/{id}", store.RoleViewer, s.getJob)
	s.route("POST /api/v1/jobs/{id}/retry", store.RoleAdmin, s.retryJob)
	s.route("POST /api/v1/jobs/{id}/cancel", store.RoleAdmin, s.cancelJob)
	s.route("POST /api/v1/sweep", store.RoleAdmin, s.sweep)
	s.route("GET /api/v1/deliveries", store.RoleViewer, s.listDeliveries)
	s.route("GET /api/v1/review", store.RoleViewer, s.review)
	s.route("/api/", "", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, http.StatusNotFound, "no such endpoint %s %s: see GET /api/v1/openapi.json", r.Method, r.URL.Path)
	})
	s.uiRoutes()
	if s.adm != nil {
		s.route("POST /admission/v1/validate", "", s.timed("validate", s.adm.ValidateHandler()))
		if s.cfg.Admission.EnableMutation {
			s.route("POST /admission/v1/mutate", "", s.timed("mutate", s.adm.MutateHandler()))
		}
	}
}

// timed serves an admission endpoint with a bound on the reviews decided
// at once: a review waits for a slot at most a second before its body is
// read, else it is answered 503, which the API server treats as the
// webhook failing (failurePolicy: Fail denies, Ignore admits). Under
// overload memory stays bounded instead of growing with the queue.
func (s *Server) timed(endpoint string, h http.Handler) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case s.admissionSlots <- struct{}{}:
			defer func() { <-s.admissionSlots }()
		case <-t.C:
			s.metrics.admission.WithLabelValues("overloaded", "", "overloaded").Inc()
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: fmt.Sprintf("overloaded: %d admission reviews are being decided; try again", cap(s.admissionSlots))})
			return
		case <-r.Context().Done():
			return
		}
		h.ServeHTTP(w, r)
	}
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.view.Lookup(r.Context(), "sha256:readiness"); err != nil {
		s.writeError(w, r, http.StatusServiceUnavailable, "not ready: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", code, "err", msg)
	}
	writeJSON(w, code, errorBody{Error: msg})
}

// fail maps a fleet or store error to its status: not found 404, conflict
// 409, invalid 400, a cancelled request 499-like 503, anything else 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.writeError(w, r, http.StatusNotFound, "%s", strings.TrimPrefix(err.Error(), "store: "))
	case errors.Is(err, fleet.ErrConflict):
		s.writeError(w, r, http.StatusConflict, "%v", err)
	case errors.Is(err, fleet.ErrInvalid):
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.writeError(w, r, http.StatusServiceUnavailable, "the request was cancelled or timed out: %v", err)
	default:
		s.writeError(w, r, http.StatusInternalServerError, "%v", err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
