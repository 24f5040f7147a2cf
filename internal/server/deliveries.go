package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/notify"
)

// listDeliveries lists webhook deliveries with every attempt: when, the
// receiver's status code or the error.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	f := notify.DeliveryFilter{Webhook: q.Get("webhook"), Event: q.Get("event"), Status: q.Get("status"), Limit: limit}
	if f.Status != "" && !slices.Contains(notify.Statuses, f.Status) {
		s.writeError(w, r, http.StatusBadRequest, "status: want one of %s; got %q", strings.Join(notify.Statuses, ", "), f.Status)
		return
	}
	if f.Event != "" && !slices.Contains(notify.Events, f.Event) {
		s.writeError(w, r, http.StatusBadRequest, "event: want one of %s; got %q", strings.Join(notify.Events, ", "), f.Event)
		return
	}
	ds, err := notify.Deliveries(r.Context(), s.fleet.Store().Queue(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}
