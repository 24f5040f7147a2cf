package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/fleet"
)

// Schema identifies the JSON body of a webhook (FormatJSON). Fields are only
// added under it; a change that breaks a receiver gets a new URL.
const Schema = "https://shipshape.dev/schemas/webhook/v1"

// The headers of every delivery.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body under
	// the webhook's secret (like GitHub's X-Hub-Signature-256).
	HeaderSignature = "X-Shipshape-Signature-256"
	// HeaderEvent is the event name.
	HeaderEvent = "X-Shipshape-Event"
	// HeaderDelivery is the delivery's ID, the same on every attempt:
	// receivers drop repeats by it.
	HeaderDelivery = "X-Shipshape-Delivery"
)

// Payload is the JSON body of a delivery.
type Payload struct {
	Schema string `json:"schema"`
	// Delivery is the delivery's ID (also in X-Shipshape-Delivery).
	Delivery string    `json:"delivery"`
	Event    string    `json:"event"`
	Time     time.Time `json:"time"`
	// Image is the image the event is about (not for exception-expiring).
	Image *Image `json:"image,omitempty"`
	// State is the image's approval state after the event, PreviousState
	// before it ("" when it had none).
	State         string `json:"state,omitempty"`
	PreviousState string `json:"previous_state,omitempty"`
	// Reason is the approval's reason, or why an exception was granted.
	Reason string `json:"reason,omitempty"`
	// Actor decided: a token's name, or "policy".
	Actor string `json:"actor,omitempty"`
	// Failing is what the image's latest evaluation fails, vetoes first
	// ("SEC-001 USER is not set").
	Failing []string `json:"failing"`
	// NewVetoes are the vetoes the previous evaluation did not have (veto).
	NewVetoes []string `json:"new_vetoes,omitempty"`
	// EvaluationID is the evaluation the event follows from.
	EvaluationID int64 `json:"evaluation_id,omitempty"`
	// Exception is the exception about to expire (exception-expiring).
	Exception *Exception `json:"exception,omitempty"`
	// Link is the dashboard's page of the image (or of upcoming expiries).
	Link string `json:"link,omitempty"`
}

// Image names an image.
type Image struct {
	Digest     string `json:"digest"`
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
}

// Exception is an exception in a payload.
type Exception struct {
	ID                int64     `json:"id"`
	Check             string    `json:"check,omitempty"`
	Advisory          string    `json:"advisory,omitempty"`
	ImagePattern      string    `json:"image,omitempty"`
	RepositoryPattern string    `json:"repository,omitempty"`
	Owner             string    `json:"owner"`
	CreatedBy         string    `json:"created_by"`
	ExpiresAt         time.Time `json:"expires_at"`
	// Repositories are the stored images' repositories it applies to.
	Repositories []string `json:"repositories,omitempty"`
}

// Sign returns the X-Shipshape-Signature-256 value of body under key.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a X-Shipshape-Signature-256 value in constant time: what a
// receiver written in Go does.
func Verify(key, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(key, body)), []byte(signature))
}

// newDeliveryID is a random UUID (version 4).
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// eventsOf are the events a change fires.
func eventsOf(c fleet.Change) []string {
	var out []string
	if c.State != c.Previous {
		switch c.State {
		case "approved":
			out = append(out, EventApproved)
		case "expiring":
			out = append(out, EventExpiring)
		case "retired":
			out = append(out, EventRetired)
		case "revoked":
			out = append(out, EventRevoked)
		}
	}
	if len(c.NewVetoes) > 0 {
		out = append(out, EventVeto)
	}
	return out
}

// body renders a payload in a webhook's format.
func body(format string, p Payload) ([]byte, error) {
	if format == FormatSlack {
		return json.Marshal(map[string]string{"text": text(p)})
	}
	return json.Marshal(p)
}

// text is the one-message summary of a payload (the Slack format).
func text(p Payload) string {
	var b strings.Builder
	b.WriteString("shipshape: ")
	if e := p.Exception; e != nil {
		what := strings.TrimSpace(e.Check + " " + e.Advisory)
		scope := e.RepositoryPattern
		if scope == "" {
			scope = e.ImagePattern
		}
		fmt.Fprintf(&b, "exception %d (%s for %s, owner %s, granted by %s) expires on %s", e.ID, what, scope, e.Owner, e.CreatedBy, e.ExpiresAt.UTC().Format(time.DateOnly))
		if p.Reason != "" {
			fmt.Fprintf(&b, ": %s", p.Reason)
		}
	} else if p.Image != nil {
		name := p.Image.Repository
		if p.Image.Tag != "" {
			name += ":" + p.Image.Tag
		}
		d := p.Image.Digest
		if len(d) > 19 {
			d = d[:19] + "…"
		}
		switch p.Event {
		case EventVeto:
			fmt.Fprintf(&b, "%s (%s) has a new veto: %s", name, d, strings.Join(p.NewVetoes, "; "))
			if p.State != "" {
				fmt.Fprintf(&b, " (now %s)", p.State)
			}
		default:
			fmt.Fprintf(&b, "%s (%s) is now %s", name, d, p.State)
			if p.PreviousState != "" {
				fmt.Fprintf(&b, " (was %s)", p.PreviousState)
			}
			if p.Actor != "" {
				fmt.Fprintf(&b, " by %s", p.Actor)
			}
			if p.Reason != "" {
				fmt.Fprintf(&b, ": %s", p.Reason)
			}
		}
	}
	if p.Link != "" {
		fmt.Fprintf(&b, " <%s>", p.Link)
	}
	return b.String()
}
