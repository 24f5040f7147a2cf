package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// Reasons an image is evaluated, recorded with each evaluation's event and
// in the uniqueness of re-evaluation jobs.
const (
	ReasonSubmit     = "submit"
	ReasonInterval   = "interval"
	ReasonAdvisories = "advisories"
	ReasonException  = "exception"
	ReasonManual     = "manual"
)

// Evaluation is what one judgement of an image recorded.
type Evaluation struct {
	Digest       string   `json:"digest"`
	Repository   string   `json:"repository"`
	Tag          string   `json:"tag,omitempty"`
	Reference    string   `json:"reference,omitempty"`
	IndexDigest  string   `json:"index_digest,omitempty"`
	EvaluationID int64    `json:"evaluation_id"`
	Reason       string   `json:"reason"`
	Pass         bool     `json:"pass"`
	Verdict      string   `json:"verdict"`
	Grade        string   `json:"grade"`
	Score        int      `json:"score"`
	Failing      []string `json:"failing,omitempty"`
	// State is the approval state after the evaluation, Previous before it.
	State    string `json:"state"`
	Previous string `json:"previous_state,omitempty"`
	// New and Resolved are the fingerprints of findings that appeared or went
	// away since the image's previous evaluation.
	New      []string `json:"new_findings"`
	Resolved []string `json:"resolved_findings"`

	Report *report.Report `json:"-"`

	signer, signedDigest string
}

// Digest returns the digest an image's facts are stored under: its
// manifest digest, or its config digest (image ID) when it was read from an
// archive that has none.
func Digest(fs *facts.Facts) string {
	if fs.Image.Digest != "" {
		return fs.Image.Digest
	}
	return fs.Image.ImageID
}

// Record judges fs under the policy of its repository and the stored
// exceptions, and records the image, its facts, the evaluation, the approval
// that follows and the audit events in one transaction.
//
// then, when given, runs last in the same transaction (a job worker
// completes its job there, so that the evaluation is recorded exactly once
// even if the process dies right after the commit).
func (f *Fleet) Record(ctx context.Context, fs *facts.Facts, actor, reason string, then ...InTx) (*Evaluation, error) {
	if fs == nil || fs.FS == nil || fs.Inventory == nil {
		return nil, invalidf("incomplete facts: no filesystem or inventory")
	}
	digest := Digest(fs)
	if digest == "" {
		return nil, invalidf("the facts name no digest: observe the image with shipshape observe")
	}
	data, err := encodeFacts(fs)
	if err != nil {
		return nil, err
	}
	ev, rep, pol, err := f.judge(ctx, fs, reason)
	if err != nil {
		return nil, err
	}
	now := f.Now()
	err = f.st.Tx(ctx, func(tx *store.Tx) error {
		if fs.Image.IndexDigest != "" {
			if err := tx.UpsertImage(store.Image{Digest: fs.Image.IndexDigest, Repository: ev.Repository, Tag: ev.Tag, Kind: "index", UpdatedAt: now}); err != nil {
				return err
			}
		}
		platform := ""
		if fs.Image.IndexDigest != "" {
			platform = fs.Image.Platform.OS + "/" + fs.Image.Platform.Architecture
			if fs.Image.Platform.Variant != "" {
				platform += "/" + fs.Image.Platform.Variant
			}
		}
		if err := tx.UpsertImage(store.Image{Digest: digest, Repository: ev.Repository, Tag: ev.Tag,
			IndexDigest: fs.Image.IndexDigest, Platform: platform, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutFacts(store.Facts{ImageDigest: digest, Version: fmt.Sprint(fs.Version), Data: data,
			Packages: packageKeys(fs), StoredAt: now}); err != nil {
			return err
		}
		if err := f.recordEvaluation(tx, ev, rep, pol, actor, now); err != nil {
			return err
		}
		if err := f.hookEvaluation(tx, ev, rep, actor, now); err != nil {
			return err
		}
		return runThen(tx, ev, then)
	})
	if err != nil {
		return nil, err
	}
	f.changed()
	return ev, nil
}

// InTx is work done last in the transaction that records an evaluation.
type InTx func(tx *store.Tx, ev *Evaluation) error

func runThen(tx *store.Tx, ev *Evaluation, then []InTx) error {
	for _, fn := range then {
		if err := fn(tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// Reevaluate judges the stored facts of digest again and records the
// result; then runs last in the same transaction (see Record).
func (f *Fleet) Reevaluate(ctx context.Context, digest, actor, reason string, then ...InTx) (*Evaluation, error) {
	stored, err := f.st.Facts(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("facts of %s: %w", digest, err)
	}
	fs, err := decodeFacts(stored.Data)
	if err != nil {
		return nil, fmt.Errorf("stored facts of %s: %w (submit the image again)", digest, err)
	}
	ev, rep, pol, err := f.judge(ctx, fs, reason)
	if err != nil {
		return nil, err
	}
	now := f.Now()
	if err := f.st.Tx(ctx, func(tx *store.Tx) error {
		if err := f.recordEvaluation(tx, ev, rep, pol, actor, now); err != nil {
			return err
		}
		if err := f.hookEvaluation(tx, ev, rep, actor, now); err != nil {
			return err
		}
		return runThen(tx, ev, then)
	}); err != nil {
		return nil, err
	}
	f.changed()
	return ev, nil
}

// judge runs the engine on fs under the repository's policy and the stored
// exceptions that apply to it.
func (f *Fleet) judge(ctx context.Context, fs *facts.Facts, reason string) (*Evaluation, *report.Report, *policy.Policy, error) {
	digest := Digest(fs)
	repo, tag := fs.Image.Repository, fs.Image.Tag
	if repo == "" {
		repo = "unnamed"
	}
	pol := f.pols.For(repo)
	exs, err := f.st.Exceptions(ctx, store.ExceptionFilter{})
	if err != nil {
		return nil, nil, nil, err
	}
	var apply []policy.Exception
	for _, e := range exs {
		if e.ImagePattern != "" && !matchImage(e.ImagePattern, digest, fs.Image.Reference, fs.Image.IndexDigest) {
			continue
		}
		if e.RepositoryPattern != "" && !MatchRepository(e.RepositoryPattern, repo) {
			continue
		}
		apply = append(apply, policy.StoredException(fmt.Sprintf("exception %d (%s)", e.ID, e.Owner),
			policy.Exception{Check: e.Check, Vulnerability: e.Advisory, Reason: e.Reason}, e.ExpiresAt))
	}
	eng, done := f.engine()
	defer done()
	var opts []engine.JudgeOption
	rep, err := eng.Judge(ctx, fs, pol.WithExceptions(apply...), f.Now(), opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("judging %s: %w", digest, err)
	}
	ev := &Evaluation{Digest: digest, Repository: repo, Tag: tag, Reference: fs.Image.Reference, IndexDigest: fs.Image.IndexDigest,
		Reason: reason, Pass: rep.Verdict.Pass, Verdict: verdictWord(rep.Verdict.Pass), Grade: rep.Verdict.Grade, Score: rep.Verdict.Score,
		Failing: failing(rep.Verdict), Report: rep}
	ev.signer, ev.signedDigest = signer(fs)
	return ev, rep, pol, nil
}

// recordEvaluation stores the evaluation and its finding keys, moves the
// approval and appends the events, in tx.
func (f *Fleet) recordEvaluation(tx *store.Tx, ev *Evaluation, rep *report.Report, pol *policy.Policy, actor string, now time.Time) error {
	ctx := context.Background()
	prevKeys := map[string]bool{}
	if prev, err := tx.LatestEvaluation(ctx, ev.Digest); err == nil {
		keys, err := tx.Findings(ctx, prev.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			prevKeys[k.Fingerprint] = true
		}
	} else if !isNotFound(err) {
		return err
	}
	keys := findingKeys(rep)
	ev.New, ev.Resolved = []string{}, []string{}
	cur := map[string]bool{}
	for _, k := range keys {
		cur[k.Fingerprint] = true
		if len(prevKeys) > 0 && !prevKeys[k.Fingerprint] {
			ev.New = append(ev.New, k.Fingerprint)
		}
	}
	for fp := range prevKeys {
		if !cur[fp] {
			ev.Resolved = append(ev.Resolved, fp)
		}
	}
	slices.Sort(ev.Resolved)
	js, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	id, err := tx.AddEvaluation(store.Evaluation{ImageDigest: ev.Digest, FactsVersion: rep.Tool.Version, DBVersions: dbVersions(rep),
		PolicyDigest: pol.Digest, Verdict: ev.Verdict, Grade: ev.Grade, Score: ev.Score, Report: js, EvaluatedAt: now, Findings: keys})
	if err != nil {
		return err
	}
	ev.EvaluationID = id
	details, _ := json.Marshal(map[string]any{"evaluation": id, "reason": ev.Reason, "verdict": ev.Verdict, "grade": ev.Grade,
		"new_findings": len(ev.New), "resolved_findings": len(ev.Resolved), "policy": pol.Digest})
	if _, err := tx.AppendEvent(store.Event{At: now, Actor: actor, Action: "image.evaluated", Subject: ev.Digest, Details: details}); err != nil {
		return err
	}
	var curApproval *store.Approval
	if a, err := tx.Approval(ctx, ev.Digest); err == nil {
		curApproval = &a
		ev.Previous = a.State
	} else if !isNotFound(err) {
		return err
	}
	o := Outcome{Pass: ev.Pass, Failing: ev.Failing, PastEOL: pastEOL(rep, now), EvaluationID: id}
	o.Signer, o.SignedDigest = ev.signer, ev.signedDigest
	ev.State = ev.Previous
	na := next(curApproval, o, pol.Service, now)
	if na == nil {
		return nil
	}
	na.ImageDigest = ev.Digest
	if err := tx.SetApproval(*na); err != nil {
		return err
	}
	ev.State = na.State
	if na.State == ev.Previous {
		return nil
	}
	return appendApprovalEvent(tx, *na, ev.Previous, actorPolicy)
}

func appendApprovalEvent(tx *store.Tx, a store.Approval, previous, actor string) error {
	details, _ := json.Marshal(map[string]any{"state": a.State, "previous": previous, "reason": a.Reason,
		"valid_until": timeOrNil(a.ValidUntil), "signer": a.Signer, "verified_digest": a.VerifiedDigest, "evaluation": a.EvaluationID})
	_, err := tx.AppendEvent(store.Event{At: a.DecidedAt, Actor: actor, Action: "approval." + a.State, Subject: a.ImageDigest, Details: details})
	return err
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func verdictWord(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// failing lists the vetoes, then the other failing findings, as "ID title".
func failing(v finding.Verdict) []string {
	var out []string
	for _, fs := range [][]finding.Finding{v.Vetoes, v.Failing} {
		for _, fd := range fs {
			s := fd.CheckID + " " + fd.Title
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func findingKeys(rep *report.Report) []store.FindingKey {
	var out []store.FindingKey
	for _, r := range rep.Results {
		for _, fd := range r.Findings {
			if fd.Fingerprint == "" {
				continue
			}
			out = append(out, store.FindingKey{Fingerprint: fd.Fingerprint, Check: r.Check.ID, Advisory: fd.Vulnerability, Severity: fd.Severity.String()})
		}
	}
	return out
}

func dbVersions(rep *report.Report) map[string]string {
	js, err := json.Marshal(rep.Data)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(js, &m) != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		b, _ := json.Marshal(v)
		out[k] = string(b)
	}
	return out
}

// pastEOL returns the end-of-life findings (MNT-003 base OS, MNT-004
// runtimes) whose date has passed with no extended support left.
func pastEOL(rep *report.Report, now time.Time) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Check.ID != "MNT-003" && r.Check.ID != "MNT-004" {
			continue
		}
		for _, fd := range r.Findings {
			var end time.Time
			extended := false
			for _, e := range fd.Evidence {
				switch e.Field {
				case "end of life":
					end, _ = time.Parse(time.DateOnly, e.Value)
				case "extended support until":
					extended = true
				}
			}
			if !end.IsZero() && !extended && !now.Before(end) {
				out = append(out, fd.Title)
			}
		}
	}
	return out
}

// signer returns who signed the image, and the exact digest the verified
// signature covers, when the policy's trust anchors verified one.
func signer(fs *facts.Facts) (string, string) {
	if fs == nil || fs.Supply == nil || fs.Supply.Attached == nil {
		return "", ""
	}
	for _, s := range fs.Supply.Attached.Verified() {
		d := s.AttachedTo
		if len(s.SignedDigests) > 0 {
			d = s.SignedDigests[0]
		}
		return s.Signer, d
	}
	return "", ""
}

func matchImage(pattern string, candidates ...string) bool {
	for _, c := range candidates {
		if c != "" && (pattern == c || MatchRepository(pattern, c)) {
			return true
		}
	}
	return false
}

// packageKeys are the lower-case names (and source names) of the image's
// packages, the keys vulndb.ChangedPackages returns.
func packageKeys(fs *facts.Facts) []string {
	var out []string
	for _, p := range fs.Inventory.Packages {
		out = append(out, strings.ToLower(p.Name))
		if p.SourceName != "" {
			out = append(out, strings.ToLower(p.SourceName))
		}
	}
	return out
}

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// encodeFacts is the stored form of facts: their JSON, zstd-compressed.
func encodeFacts(fs *facts.Facts) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	if err := facts.Write(zw, fs); err != nil {
		zw.Close()
		return nil, fmt.Errorf("encoding facts: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeFacts(data []byte) (*facts.Facts, error) {
	if !bytes.HasPrefix(data, zstdMagic) {
		return facts.Decode(data)
	}
	zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderMaxMemory(facts.MaxSize))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return facts.Read(io.LimitReader(zr, facts.MaxSize+1))
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
