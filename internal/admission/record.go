package admission

import (
	"context"
	"time"
)

// Outcome is how a review ended.
type Outcome string

// The outcomes counted by a Recorder.
const (
	// OutcomeAllowed: admitted with nothing to report (expiry warnings aside).
	OutcomeAllowed Outcome = "allowed"
	// OutcomeDenied: refused (enforce mode).
	OutcomeDenied Outcome = "denied"
	// OutcomeWarned: admitted with warnings in warn mode, where enforce would have denied.
	OutcomeWarned Outcome = "warned"
	// OutcomeAudited: admitted silently in audit mode, where enforce would have denied.
	OutcomeAudited Outcome = "audited"
	// OutcomeInvalid: the HTTP request was not a valid AdmissionReview (answered 4xx).
	OutcomeInvalid Outcome = "invalid"
)

// Reasons of a decision (Decision.Reason), low-cardinality for metrics labels.
const (
	ReasonApproved          = "approved"
	ReasonExpiringSoon      = "expiring-soon"
	ReasonExempt            = "exempt"
	ReasonBreakGlass        = "break-glass"
	ReasonInvalidBreakGlass = "invalid-break-glass"
	ReasonNotFound          = "not-approved"
	ReasonExpired           = "expired"
	ReasonViewError         = "view-error"
	ReasonResolveError      = "resolve-error"
	ReasonInvalidImage      = "invalid-image"
	ReasonDeadline          = "deadline"
	ReasonMalformed         = "malformed"
	ReasonUnsupportedKind   = "unsupported-kind"
	ReasonNoNewImages       = "no-new-images"
	ReasonOperation         = "operation-not-judged"
	ReasonSubresource       = "subresource-not-judged"
	ReasonInternal          = "internal-error"
	// Not admitted because of the approval state: the state's name (pending,
	// rejected, retired, revoked).
)

// ImageDecision is the verdict on one container's image.
type ImageDecision struct {
	Container Container `json:"container"`
	// Digest is the resolved digest ("" when resolution failed).
	Digest string `json:"digest,omitempty"`
	// Approval is the governing approval, nil when none was found.
	Approval *Approval `json:"approval,omitempty"`
	// Admitted reports whether this image may run.
	Admitted bool `json:"admitted"`
	// Reason is one of the Reason constants or an approval state.
	Reason string `json:"reason"`
	// Err is the resolution or lookup error, if any.
	Err string `json:"error,omitempty"`
}

// Decision is the record of one review, given to the Recorder.
type Decision struct {
	Time        time.Time       `json:"time"`
	Endpoint    string          `json:"endpoint"` // validate or mutate
	UID         string          `json:"uid,omitempty"`
	Operation   string          `json:"operation,omitempty"`
	SubResource string          `json:"subResource,omitempty"`
	Kind        string          `json:"kind,omitempty"`
	Namespace   string          `json:"namespace,omitempty"`
	Name        string          `json:"name,omitempty"`
	User        string          `json:"user,omitempty"`
	Mode        Mode            `json:"mode,omitempty"`
	Outcome     Outcome         `json:"outcome"`
	Reason      string          `json:"reason"`
	Images      []ImageDecision `json:"images,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`
	Message     string          `json:"message,omitempty"`
	// BreakGlass is the reason given with a valid break-glass token.
	BreakGlass string `json:"breakGlass,omitempty"`
	// Patched counts the images pinned to a digest by the mutation endpoint.
	Patched int           `json:"patched,omitempty"`
	Latency time.Duration `json:"latency"`
}

// Recorder receives every decision: the service counts them (by outcome,
// namespace and reason, with a latency histogram) and writes its event log.
// Record is called synchronously on the request path and must not block: buffer
// anything slow.
type Recorder interface {
	Record(ctx context.Context, d Decision)
}

// RecorderFunc adapts a function to Recorder.
type RecorderFunc func(ctx context.Context, d Decision)

// Record calls f.
func (f RecorderFunc) Record(ctx context.Context, d Decision) { f(ctx, d) }

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, Decision) {}
