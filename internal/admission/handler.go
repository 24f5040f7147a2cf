package admission

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The HTTP paths the Handler serves.
const (
	ValidatePath = "/admission/v1/validate"
	MutatePath   = "/admission/v1/mutate"
)

// maxWarnings bounds the warnings of one response (the API server may drop
// more; each one is also kept under 256 characters).
const maxWarnings = 10

// Handler serves the admission webhooks. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	view     View
	resolver Resolver
	rec      Recorder
}

// NewHandler checks cfg and returns a Handler deciding from view, resolving tags
// with resolver and reporting every decision to rec (which may be nil).
func NewHandler(cfg Config, view View, resolver Resolver, rec Recorder) (*Handler, error) {
	if view == nil || resolver == nil {
		return nil, errors.New("admission: a View and a Resolver are required")
	}
	c, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("admission config: %w", err)
	}
	if rec == nil {
		rec = nopRecorder{}
	}
	return &Handler{cfg: c, view: view, resolver: resolver, rec: rec}, nil
}

// Register adds the validating endpoint (and the mutating one when
// Config.EnableMutation is set) to mux, for POST only.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST "+ValidatePath, h.ValidateHandler())
	if h.cfg.EnableMutation {
		mux.Handle("POST "+MutatePath, h.MutateHandler())
	}
}

// ValidateHandler is the http.Handler of the validating webhook.
func (h *Handler) ValidateHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, false) })
}

// MutateHandler is the http.Handler of the digest-pinning webhook; it answers
// 404 unless Config.EnableMutation is set.
func (h *Handler) MutateHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.cfg.EnableMutation {
			http.Error(w, "digest mutation is disabled", http.StatusNotFound)
			return
		}
		h.serve(w, r, true)
	})
}

// DecodeReview parses an admission.k8s.io/v1 AdmissionReview request strictly:
// one JSON object and nothing after it, the right apiVersion and kind, a request
// with a uid, a kind and a known operation, and an object for CREATE and UPDATE.
// Unknown fields are ignored on purpose: a newer API server may add some, and
// refusing them would turn an upgrade into an outage of every deployment.
func DecodeReview(data []byte) (*admissionv1.AdmissionReview, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var rv admissionv1.AdmissionReview
	if err := dec.Decode(&rv); err != nil {
		return nil, fmt.Errorf("not an AdmissionReview: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not an AdmissionReview: data after the JSON object")
	}
	if rv.APIVersion != "admission.k8s.io/v1" || rv.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("want apiVersion admission.k8s.io/v1 and kind AdmissionReview, got %q %q", rv.APIVersion, rv.Kind)
	}
	req := rv.Request
	switch {
	case req == nil:
		return nil, errors.New("AdmissionReview without a request")
	case req.UID == "":
		return nil, errors.New("AdmissionReview request without a uid")
	case req.Kind.Kind == "":
		return nil, errors.New("AdmissionReview request without a kind")
	case rv.Response != nil:
		return nil, errors.New("AdmissionReview request carries a response")
	}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
		if len(req.Object.Raw) == 0 {
			return nil, fmt.Errorf("%s request without an object", req.Operation)
		}
	case admissionv1.Delete, admissionv1.Connect:
	default:
		return nil, fmt.Errorf("unknown operation %q", req.Operation)
	}
	return &rv, nil
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, mutate bool) {
	start := time.Now()
	endpoint := "validate"
	if mutate {
		endpoint = "mutate"
	}
	fail := func(code int, msg string) {
		h.rec.Record(r.Context(), Decision{Time: h.cfg.Now(), Endpoint: endpoint, Outcome: OutcomeInvalid,
			Reason: ReasonMalformed, Message: msg, Latency: time.Since(start)})
		http.Error(w, msg, code)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, "POST an AdmissionReview")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("AdmissionReview larger than %d bytes", h.cfg.MaxBodyBytes))
		} else {
			fail(http.StatusBadRequest, "reading the request: "+err.Error())
		}
		return
	}
	rv, err := DecodeReview(data)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	var resp *admissionv1.AdmissionResponse
	if mutate {
		resp, _ = h.mutate(r.Context(), rv.Request, start)
	} else {
		resp, _ = h.validate(r.Context(), rv.Request, start)
	}
	out, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: rv.TypeMeta, Response: resp})
	if err != nil { // cannot happen with these types; never answer 500 for it
		fail(http.StatusBadRequest, "encoding the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// Validate decides one admission request (bounded by Config.Deadline), records
// the decision and returns the response with the request's uid.
func (h *Handler) Validate(ctx context.Context, req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, Decision) {
	return h.validate(ctx, req, time.Now())
}

// Mutate computes the digest-pinning patch for one request: every image given by
// tag whose digest is admitted is rewritten to tag@digest. It never denies (the
// validating webhook decides); it records its decision like Validate.
func (h *Handler) Mutate(ctx context.Context, req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, Decision) {
	return h.mutate(ctx, req, time.Now())
}

// request is the common part of validation and mutation.
type request struct {
	req        *admissionv1.AdmissionRequest
	d          Decision
	wl         Workload
	containers []Container // the containers to judge
	done       bool        // decided without judging images
	allowed    bool        // when done
	message    string      // when done
}

func (h *Handler) begin(ctx context.Context, req *admissionv1.AdmissionRequest, endpoint string) *request {
	r := &request{req: req, d: Decision{
		Time: h.cfg.Now(), Endpoint: endpoint, UID: string(req.UID), Operation: string(req.Operation),
		SubResource: req.SubResource, Kind: groupKind(req.Kind.Group, req.Kind.Kind), Namespace: req.Namespace,
		Name: req.Name, User: req.UserInfo.Username,
	}}
	finish := func(allowed bool, reason, msg string) *request {
		r.done, r.allowed, r.d.Reason, r.message = true, allowed, reason, msg
		return r
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return finish(true, ReasonOperation, "")
	}
	ephemeral := req.SubResource == "ephemeralcontainers" && req.Kind.Group == "" && req.Kind.Kind == "Pod"
	if req.SubResource != "" && !ephemeral {
		return finish(true, ReasonSubresource, "")
	}
	if h.cfg.exempt(req.Namespace) {
		return finish(true, ReasonExempt, "")
	}
	if !Supported(req.Kind.Group, req.Kind.Kind) {
		r.d.Mode, _ = h.cfg.mode(ctx, req.Namespace, nil)
		return finish(false, ReasonUnsupportedKind, fmt.Sprintf(
			"shipshape does not know where a %s keeps its images: remove it from the webhook's rules", r.d.Kind))
	}
	wl, err := ExtractWorkload(req.Kind.Group, req.Kind.Kind, req.Object.Raw)
	if err != nil {
		r.d.Mode, _ = h.cfg.mode(ctx, req.Namespace, nil)
		return finish(false, ReasonMalformed, "shipshape cannot read the object: "+err.Error())
	}
	r.wl = wl
	if r.d.Name == "" {
		r.d.Name = wl.Name
	}
	mode, err := h.cfg.mode(ctx, req.Namespace, wl.Labels)
	r.d.Mode = mode
	if err != nil {
		r.d.Warnings = append(r.d.Warnings, "shipshape: enforce mode because "+err.Error())
	}
	r.containers = wl.Containers
	if req.Operation == admissionv1.Update && len(req.OldObject.Raw) > 0 {
		if old, err := ExtractWorkload(req.Kind.Group, req.Kind.Kind, req.OldObject.Raw); err == nil {
			r.containers = changedContainers(old.Containers, wl.Containers)
		}
	}
	if len(r.containers) == 0 {
		return finish(true, ReasonNoNewImages, "")
	}
	return r
}

// changedContainers keeps the containers whose image is new: on UPDATE a
// container (by list and name) whose image is unchanged pulls nothing new, and
// re-judging it would block controllers' metadata updates (finalizers, labels)
// on workloads whose image was revoked after they started. New pods are judged
// when they are created.
func changedContainers(old, cur []Container) []Container {
	type key struct {
		kind ContainerKind
		name string
	}
	prev := make(map[key]string, len(old))
	for _, c := range old {
		prev[key{c.Kind, c.Name}] = c.Image
	}
	var out []Container
	for _, c := range cur {
		if img, ok := prev[key{c.Kind, c.Name}]; !ok || img != c.Image {
			out = append(out, c)
		}
	}
	return out
}

func (h *Handler) validate(ctx context.Context, req *admissionv1.AdmissionRequest, start time.Time) (resp *admissionv1.AdmissionResponse, d Decision) {
	resp = &admissionv1.AdmissionResponse{UID: req.UID}
	var r *request
	defer func() {
		if p := recover(); p != nil { // a bug must not fail open, nor crash the server
			mode := ModeEnforce
			if r != nil && r.d.Mode != "" {
				mode = r.d.Mode
			}
			resp = &admissionv1.AdmissionResponse{UID: req.UID}
			d = Decision{Time: h.cfg.Now(), Endpoint: "validate", UID: string(req.UID), Mode: mode, Reason: ReasonInternal,
				Message: fmt.Sprintf("shipshape internal error: %v", p)}
			h.conclude(resp, &d, mode, false, d.Message, nil)
		}
		d.Latency = time.Since(start)
		h.rec.Record(ctx, d)
	}()
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Deadline)
	defer cancel()
	r = h.begin(ctx, req, "validate")
	if r.done {
		h.conclude(resp, &r.d, r.d.Mode, r.allowed, r.message, nil)
		return resp, r.d
	}
	images := h.judge(ctx, r.containers)
	r.d.Images = images
	var problems, expiring []ImageDecision
	for _, im := range images {
		if !im.Admitted {
			problems = append(problems, im)
		} else if im.Reason == ReasonExpiringSoon {
			expiring = append(expiring, im)
		}
	}
	var warnings []string
	for _, im := range expiring {
		warnings = append(warnings, h.expiryWarning(im))
	}
	bg, bgErr := h.breakGlass(r.wl)
	switch {
	case bg != "":
		r.d.BreakGlass = bg
		r.d.Reason = ReasonBreakGlass
		msg := ""
		if len(problems) > 0 {
			msg = h.denyMessage(r, problems)
		}
		warnings = append(warnings, fmt.Sprintf("shipshape: break-glass by %s (%s) is recorded", orUnknown(req.UserInfo.Username), bg))
		h.conclude(resp, &r.d, r.d.Mode, true, msg, warnings)
		return resp, r.d
	case bgErr != nil:
		warnings = append(warnings, "shipshape: break-glass ignored: "+bgErr.Error())
	}
	if len(problems) == 0 {
		r.d.Reason = ReasonApproved
		if len(expiring) > 0 {
			r.d.Reason = ReasonExpiringSoon
		}
		h.conclude(resp, &r.d, r.d.Mode, true, "", warnings)
		return resp, r.d
	}
	r.d.Reason = problems[0].Reason
	if bgErr != nil {
		r.d.Reason = ReasonInvalidBreakGlass
	}
	msg := h.denyMessage(r, problems)
	if r.d.Mode == ModeWarn {
		seen := map[string]bool{}
		for _, p := range problems {
			if !seen[p.Container.Image] {
				seen[p.Container.Image] = true
				warnings = append(warnings, "shipshape (warn mode, would deny): "+h.imageMessage(p, true))
			}
		}
	}
	h.conclude(resp, &r.d, r.d.Mode, false, msg, warnings)
	return resp, r.d
}

// conclude applies the mode to a verdict and fills the response and the decision.
func (h *Handler) conclude(resp *admissionv1.AdmissionResponse, d *Decision, mode Mode, allowed bool, msg string, warnings []string) {
	warnings = append(d.Warnings, warnings...)
	d.Message = msg
	switch {
	case allowed:
		d.Outcome = OutcomeAllowed
	case mode == ModeWarn:
		allowed, d.Outcome = true, OutcomeWarned
		if len(warnings) == 0 && msg != "" {
			warnings = append(warnings, "shipshape (warn mode, would deny): "+msg)
		}
	case mode == ModeAudit:
		allowed, d.Outcome = true, OutcomeAudited
		warnings = nil // audit mode is silent
	default:
		d.Outcome = OutcomeDenied
	}
	resp.Allowed = allowed
	if !allowed {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden,
			Reason: metav1.StatusReasonForbidden, Message: msg}
	}
	resp.Warnings = capWarnings(warnings)
	d.Warnings = resp.Warnings
	if d.Reason != ReasonOperation && d.Reason != ReasonSubresource && d.Reason != ReasonNoNewImages {
		resp.AuditAnnotations = map[string]string{"outcome": string(d.Outcome), "reason": d.Reason}
		if d.Mode != "" {
			resp.AuditAnnotations["mode"] = string(d.Mode)
		}
		if d.BreakGlass != "" {
			resp.AuditAnnotations["break-glass"] = d.BreakGlass
		}
		if msg != "" {
			resp.AuditAnnotations["message"] = truncate(msg, 1024)
		}
	}
}

func capWarnings(ws []string) []string {
	if len(ws) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(ws), maxWarnings+1))
	for i, w := range ws {
		if i == maxWarnings {
			out = append(out, fmt.Sprintf("shipshape: %d more warnings", len(ws)-maxWarnings))
			break
		}
		out = append(out, truncate(w, 256))
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown user"
	}
	return s
}

// breakGlass returns the reason of a valid break-glass annotation, or an error
// saying why the one present is not accepted ("", nil when there is none).
func (h *Handler) breakGlass(wl Workload) (string, error) {
	token, reason := wl.Annotations[h.cfg.BreakGlassAnnotation], wl.Annotations[h.cfg.BreakGlassReasonAnnotation]
	if token == "" {
		token, reason = wl.TemplateAnnotations[h.cfg.BreakGlassAnnotation], wl.TemplateAnnotations[h.cfg.BreakGlassReasonAnnotation]
	}
	if token == "" {
		return "", nil
	}
	if h.cfg.tokenHash == nil {
		return "", errors.New("break-glass is not enabled on this server")
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], h.cfg.tokenHash) != 1 {
		return "", errors.New("the token is not valid")
	}
	if strings.TrimSpace(reason) == "" {
		return "", fmt.Errorf("annotation %s must give a reason", h.cfg.BreakGlassReasonAnnotation)
	}
	return truncate(strings.TrimSpace(reason), 200), nil
}

// judge decides every distinct image of containers within ctx's deadline.
// Images whose decision is not done by then are marked ReasonDeadline, whatever
// the View or Resolver do with the context.
func (h *Handler) judge(ctx context.Context, containers []Container) []ImageDecision {
	idx := make(map[string]int, len(containers))
	var uniq []string
	for _, c := range containers {
		if _, ok := idx[c.Image]; !ok {
			idx[c.Image] = len(uniq)
			uniq = append(uniq, c.Image)
		}
	}
	results := make([]ImageDecision, len(uniq))
	if len(uniq) > h.cfg.MaxImages {
		for i := range results {
			results[i] = ImageDecision{Reason: ReasonMalformed, Err: fmt.Sprintf("more than %d distinct images", h.cfg.MaxImages)}
		}
	} else {
		type res struct {
			i int
			d ImageDecision
		}
		ch := make(chan res, len(uniq)) // buffered: late workers never block
		work := func(i int, img string) {
			defer func() {
				if p := recover(); p != nil { // a faulty View or Resolver must not crash the server
					ch <- res{i, ImageDecision{Reason: ReasonInternal, Err: fmt.Sprint(p)}}
				}
			}()
			ch <- res{i, h.judgeImage(ctx, img)}
		}
		// Images whose digest is known without the network (pinned, or a
		// cached tag) are judged one after the other in one goroutine: a
		// goroutine each would cost more than the lookups. The others resolve
		// in parallel, at most 16 at a time.
		cache, _ := h.resolver.(interface{ cached(ref string) bool })
		var slow []int
		fast := make([]int, 0, len(uniq))
		for i, img := range uniq {
			if strings.Contains(img, "@") || (cache != nil && cache.cached(img)) {
				fast = append(fast, i)
			} else {
				slow = append(slow, i)
			}
		}
		go func() {
			for _, i := range fast {
				work(i, uniq[i])
			}
		}()
		sem := make(chan struct{}, 16)
		for _, i := range slow {
			go func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				work(i, uniq[i])
			}()
		}
		got := make([]bool, len(uniq))
	wait:
		for n := 0; n < len(uniq); n++ {
			select {
			case r := <-ch:
				results[r.i], got[r.i] = r.d, true
			case <-ctx.Done():
				break wait
			}
		}
		for i, ok := range got {
			if !ok {
				results[i] = ImageDecision{Reason: ReasonDeadline, Err: fmt.Sprintf("no decision within %s", h.cfg.Deadline)}
			}
		}
	}
	out := make([]ImageDecision, len(containers))
	for i, c := range containers {
		out[i] = results[idx[c.Image]]
		out[i].Container = c
	}
	return out
}

func (h *Handler) judgeImage(ctx context.Context, image string) ImageDecision {
	d := ImageDecision{}
	fail := func(reason string, err error) ImageDecision {
		if ctx.Err() != nil {
			reason = ReasonDeadline
		}
		d.Reason, d.Err = reason, err.Error()
		return d
	}
	if image == "" {
		return fail(ReasonInvalidImage, errors.New("no image"))
	}
	var digest string
	var err error
	if strings.Contains(image, "@") {
		if _, digest, err = ParseRef(image); err != nil {
			return fail(ReasonInvalidImage, err)
		}
	}
	if digest == "" { // a tag (the Resolver parses it; a cache hit parses nothing)
		if digest, err = h.resolver.Resolve(ctx, image); err != nil {
			if _, _, perr := ParseRef(image); perr != nil {
				return fail(ReasonInvalidImage, perr)
			}
			return fail(ReasonResolveError, err)
		}
	}
	d.Digest = digest
	a, ok, err := h.view.Lookup(ctx, digest)
	if err != nil {
		return fail(ReasonViewError, err)
	}
	if !ok {
		d.Reason = ReasonNotFound
		return d
	}
	d.Approval = &a
	now := h.cfg.Now()
	switch {
	case !a.State.Admits():
		d.Reason = string(a.State)
	case !a.AdmitsAt(now):
		d.Reason = ReasonExpired
	default:
		d.Admitted, d.Reason = true, ReasonApproved
		if h.cfg.WarnBeforeExpiry > 0 && !a.ValidUntil.IsZero() && a.ValidUntil.Sub(now) <= h.cfg.WarnBeforeExpiry {
			d.Reason = ReasonExpiringSoon
		}
	}
	return d
}

func (h *Handler) link(im ImageDecision) string {
	digest := im.Digest
	if im.Approval != nil && im.Approval.Digest != "" {
		digest = im.Approval.Digest
	}
	if h.cfg.DashboardURL == "" || digest == "" {
		return ""
	}
	return h.cfg.DashboardURL + "/images/" + digest
}

// imageMessage says in one sentence why an image is not admitted. The short
// form (for warnings, which the API server truncates at 256 characters) counts
// the failing checks instead of naming them.
func (h *Handler) imageMessage(im ImageDecision, short bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "image %q", im.Container.Image)
	link := h.link(im)
	if link == "" && im.Digest != "" && !strings.Contains(im.Container.Image, im.Digest) {
		fmt.Fprintf(&b, " (%s)", im.Digest)
	}
	switch im.Reason {
	case ReasonNotFound:
		b.WriteString(" is not approved: no approval for this digest")
	case ReasonExpired:
		fmt.Fprintf(&b, " is not approved: its approval expired on %s", im.Approval.ValidUntil.UTC().Format(time.DateOnly))
	case ReasonViewError:
		fmt.Fprintf(&b, ": approvals cannot be read (%s)", im.Err)
	case ReasonResolveError:
		fmt.Fprintf(&b, ": its tag cannot be resolved to a digest (%s); pin the image by digest", im.Err)
	case ReasonDeadline:
		fmt.Fprintf(&b, ": no decision in time (%s)", im.Err)
	case ReasonInternal:
		fmt.Fprintf(&b, ": internal error (%s)", im.Err)
	case ReasonInvalidImage, ReasonMalformed:
		fmt.Fprintf(&b, " is not a valid image reference (%s)", im.Err)
	default:
		fmt.Fprintf(&b, " is %s", im.Reason)
		// A reason that only lists the failing checks ("fails: ...") is said
		// once, by the list below, in the long form.
		if a := im.Approval; a != nil && a.Reason != "" && (short || len(a.FailingChecks) == 0 || !strings.HasPrefix(a.Reason, "fails: ")) {
			fmt.Fprintf(&b, " (%s)", a.Reason)
		}
	}
	if a := im.Approval; a != nil && len(a.FailingChecks) > 0 && short {
		fmt.Fprintf(&b, "; %d failing checks", len(a.FailingChecks))
	} else if a != nil && len(a.FailingChecks) > 0 {
		const show = 5
		b.WriteString("; failing checks: ")
		b.WriteString(strings.Join(a.FailingChecks[:min(show, len(a.FailingChecks))], ", "))
		if len(a.FailingChecks) > show {
			fmt.Fprintf(&b, " and %d more", len(a.FailingChecks)-show)
		}
	}
	if link != "" {
		b.WriteString("; see ")
		b.WriteString(link)
	}
	return b.String()
}

// denyMessage names the workload and every distinct image that is not admitted.
func (h *Handler) denyMessage(r *request, problems []ImageDecision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "shipshape: %s %q: ", r.wl.Kind, r.wl.Name)
	seen := map[string]bool{}
	n := 0
	for _, p := range problems {
		if seen[p.Container.Image] {
			continue
		}
		seen[p.Container.Image] = true
		if n == 5 {
			fmt.Fprintf(&b, "; and more images")
			break
		}
		if n > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %q: %s", p.Container.Kind, p.Container.Name, h.imageMessage(p, false))
		n++
	}
	return b.String()
}

func (h *Handler) expiryWarning(im ImageDecision) string {
	left := im.Approval.ValidUntil.Sub(h.cfg.Now())
	days := int(left.Hours() / 24)
	when := fmt.Sprintf("in %d days", days)
	if days < 1 {
		when = "within a day"
	}
	w := fmt.Sprintf("shipshape: approval of %q expires %s (%s)", im.Container.Image, when,
		im.Approval.ValidUntil.UTC().Format(time.DateOnly))
	if l := h.link(im); l != "" {
		w += "; " + l
	}
	return w
}

// jsonPatchOp is one RFC 6902 operation.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

func (h *Handler) mutate(ctx context.Context, req *admissionv1.AdmissionRequest, start time.Time) (resp *admissionv1.AdmissionResponse, d Decision) {
	resp = &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	defer func() {
		if p := recover(); p != nil { // never deny from here: the validating webhook decides
			resp = &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
			d = Decision{Time: h.cfg.Now(), Endpoint: "mutate", UID: string(req.UID), Outcome: OutcomeAllowed,
				Reason: ReasonInternal, Message: fmt.Sprint(p)}
		}
		d.Latency = time.Since(start)
		h.rec.Record(ctx, d)
	}()
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Deadline)
	defer cancel()
	r := h.begin(ctx, req, "mutate")
	r.d.Outcome = OutcomeAllowed
	if r.done {
		return resp, r.d
	}
	images := h.judge(ctx, r.containers)
	r.d.Images = images
	r.d.Reason = ReasonApproved
	var ops []jsonPatchOp
	for _, im := range images {
		if !im.Admitted || im.Digest == "" || strings.Contains(im.Container.Image, "@") {
			continue
		}
		ops = append(ops, jsonPatchOp{Op: "replace", Path: im.Container.Path, Value: im.Container.Image + "@" + im.Digest})
	}
	if len(ops) > 0 {
		patch, err := json.Marshal(ops)
		if err == nil {
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
			r.d.Patched = len(ops)
		}
	}
	return resp, r.d
}
