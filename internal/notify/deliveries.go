package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shipshape-dev/shipshape/internal/store"
)

// Delivery is one delivery job as the API lists it, with every attempt.
type Delivery struct {
	JobID    int64  `json:"job_id"`
	Delivery string `json:"delivery"`
	Webhook  string `json:"webhook"`
	Event    string `json:"event"`
	// Digest is the image the event is about; Exception the exception's ID.
	Digest    string `json:"digest,omitempty"`
	Exception int64  `json:"exception,omitempty"`
	// Status is delivered, pending (not tried yet, or waiting for its
	// webhook), retrying, failed (given up) or cancelled.
	Status      string    `json:"status"`
	JobState    string    `json:"job_state"`
	Attempts    []Attempt `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	CreatedAt   time.Time `json:"created_at"`
	// NextAttemptAt is when it is tried again (pending and retrying).
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	Payload       Payload   `json:"payload"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	// StatusCode is the receiver's answer (0: none, see Error).
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
}

// DeliveryFilter selects Deliveries; empty fields do not filter.
type DeliveryFilter struct {
	Webhook string
	Event   string
	Status  string
	Limit   int // default 100
}

// Statuses a delivery is listed with.
var Statuses = []string{"delivered", "pending", "retrying", "failed", "cancelled"}

var statusOfState = map[rivertype.JobState]string{
	rivertype.JobStateCompleted: "delivered", rivertype.JobStateAvailable: "pending", rivertype.JobStateScheduled: "pending",
	rivertype.JobStatePending: "pending", rivertype.JobStateRunning: "pending", rivertype.JobStateRetryable: "retrying",
	rivertype.JobStateDiscarded: "failed", rivertype.JobStateCancelled: "cancelled",
}

var httpStatus = regexp.MustCompile(`^HTTP (\d{3}): `)

// Deliveries lists delivery jobs, newest first. Delivered ones stay listed
// as long as the queue keeps completed jobs (a day); failed ones a month.
func Deliveries(ctx context.Context, q *store.Queue, f DeliveryFilter) ([]Delivery, error) {
	limit := cmpOr(f.Limit, 100)
	params := river.NewJobListParams().Kinds(DeliverArgs{}.Kind()).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(10000)
	out := []Delivery{}
	res, err := q.Client().JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("notify: list deliveries: %w", err)
	}
	for _, j := range res.Jobs {
		d := deliveryOf(j)
		if f.Webhook != "" && d.Webhook != f.Webhook || f.Event != "" && d.Event != f.Event || f.Status != "" && d.Status != f.Status {
			continue
		}
		out = append(out, d)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func deliveryOf(j *rivertype.JobRow) Delivery {
	var args DeliverArgs
	_ = json.Unmarshal(j.EncodedArgs, &args)
	d := Delivery{JobID: j.ID, Delivery: args.Payload.Delivery, Webhook: args.Webhook, Event: args.Payload.Event, Status: statusOfState[j.State],
		JobState: string(j.State), Attempts: []Attempt{}, MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt.UTC(), Payload: args.Payload}
	if args.Payload.Image != nil {
		d.Digest = args.Payload.Image.Digest
	}
	if args.Payload.Exception != nil {
		d.Exception = args.Payload.Exception.ID
	}
	for _, e := range j.Errors {
		a := Attempt{Attempt: e.Attempt, At: e.At.UTC(), Error: e.Error}
		if m := httpStatus.FindStringSubmatch(e.Error); m != nil {
			a.StatusCode, _ = strconv.Atoi(m[1])
		}
		d.Attempts = append(d.Attempts, a)
	}
	if j.State == rivertype.JobStateCompleted {
		var o attemptOutput
		_ = json.Unmarshal(j.Output(), &o)
		a := Attempt{Attempt: j.Attempt, OK: true, StatusCode: o.StatusCode, DurationMS: o.DurationMS}
		if j.FinalizedAt != nil {
			a.At = j.FinalizedAt.UTC()
		}
		d.Attempts = append(d.Attempts, a)
	}
	if d.Status == "pending" || d.Status == "retrying" {
		d.NextAttemptAt = j.ScheduledAt.UTC()
	}
	return d
}
