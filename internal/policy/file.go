package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// APIVersion is the schema version of policy files this build reads.
const APIVersion = "shipshape.dev/v1"

// File is a policy file as written by users (YAML). Every field is optional;
// what is not set keeps the checklist's default.
type File struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// FailOn is "veto" (default) or a severity: findings at or above it fail the run too.
	FailOn     string                   `yaml:"failOn,omitempty"`
	Checks     map[string]CheckOverride `yaml:"checks,omitempty"`
	Thresholds Thresholds               `yaml:"thresholds,omitempty"`
	// RequiredLabels are labels every image must carry (MNT-001).
	RequiredLabels []string `yaml:"requiredLabels,omitempty"`
	// TrustedRegistries are registry/namespace patterns images must come from (SEC-030).
	TrustedRegistries []string `yaml:"trustedRegistries,omitempty"`
	// RequireSignature makes a missing or bad signature a veto (SEC-031).
	RequireSignature bool `yaml:"requireSignature,omitempty"`
	// Signatures are the trust anchors signatures and attestations are verified with.
	Signatures SignaturesFile `yaml:"signatures,omitempty"`
	// Upstream tunes MNT-007.
	Upstream UpstreamFile `yaml:"upstream,omitempty"`
	Licenses Licenses     `yaml:"licenses,omitempty"`
	// AllowedSetuid are path patterns SEC-003 does not report.
	AllowedSetuid []string    `yaml:"allowedSetuid,omitempty"`
	Rules         []Rule      `yaml:"rules,omitempty"`
	Exceptions    []Exception `yaml:"exceptions,omitempty"`
	// Service tunes how shipshape serve approves and re-evaluates images.
	Service ServiceFile `yaml:"service,omitempty"`
}

// ServiceFile is the service section of a policy file (shipshape serve).
type ServiceFile struct {
	// AutoApprove approves an image whose evaluation passes (default true).
	AutoApprove *bool `yaml:"autoApprove,omitempty"`
	// ReevaluateDays is the age of an approved image's last evaluation at
	// which the daily sweep judges it again (default 90: each quarter).
	ReevaluateDays *int `yaml:"reevaluateDays,omitempty"`
	// GraceDays is how long an approved image that now fails stays admitted
	// (state expiring) before it is retired (default 14; 0 retires at once).
	GraceDays *int `yaml:"graceDays,omitempty"`
	// ValidityDays bounds every approval (default 0: valid until re-evaluation says otherwise).
	ValidityDays *int `yaml:"validityDays,omitempty"`
}

// CheckOverride changes one check.
type CheckOverride struct {
	// Severity replaces the severity of every finding of the check.
	Severity string `yaml:"severity,omitempty"`
	// Veto makes every finding of the check a veto (true) or never one (false).
	Veto *bool `yaml:"veto,omitempty"`
	// Disabled drops the check from the run.
	Disabled bool `yaml:"disabled,omitempty"`
}

// Thresholds tune the checks.
type Thresholds struct {
	// CVSS is the score from which a fixable vulnerability is a veto (SEC-020).
	CVSS *float64 `yaml:"cvss,omitempty"`
	// MaxImageAgeDays is the age past which MNT-002 reports an image.
	MaxImageAgeDays *int `yaml:"maxImageAgeDays,omitempty"`
	// MaxUpstreamAgeDays is how long the upstream may go without a commit (MNT-007).
	MaxUpstreamAgeDays *int `yaml:"maxUpstreamAgeDays,omitempty"`
	// EOLWarningDays is how long before an end of life MNT-003/MNT-004 warn.
	EOLWarningDays *int `yaml:"eolWarningDays,omitempty"`
}

// Licenses are the license lists of CMP-002.
type Licenses struct {
	Deny  []string `yaml:"deny,omitempty"`
	Allow []string `yaml:"allow,omitempty"`
}

// Rule is a custom check written in CEL over the report's JSON model.
type Rule struct {
	ID        string `yaml:"id"`
	Message   string `yaml:"message"`
	Severity  string `yaml:"severity"`
	Veto      bool   `yaml:"veto,omitempty"`
	Dimension string `yaml:"dimension,omitempty"`
	// Expr is a CEL expression over `report` (the JSON report); true means the rule fires.
	Expr string `yaml:"expr"`
}

// Exception waives findings. At least one selector must be set, and a reason always.
type Exception struct {
	Check         string `yaml:"check,omitempty"`
	Vulnerability string `yaml:"vulnerability,omitempty"`
	Package       string `yaml:"package,omitempty"`
	// Path matches evidence paths (path.Match pattern or exact).
	Path string `yaml:"path,omitempty"`
	// Image matches the image reference (path.Match pattern or exact).
	Image   string `yaml:"image,omitempty"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires,omitempty"`

	expires time.Time
	line    int
	name    string // a stored exception's name (StoredException)
}

// Error is a problem in a policy file, with where it is.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*-[0-9A-Z-]+$`)

// LoadFile reads and validates a policy file.
func LoadFile(name string) (*Policy, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return Parse(name, data)
}

// Parse reads and validates policy YAML; name is used in error messages.
func Parse(name string, data []byte) (*Policy, error) { return parse(name, data, true) }

func parse(name string, data []byte, strictIDs bool) (*Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	lines := keyLines(&root)
	p, err := compile(name, &f, lines, strictIDs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p.Digest = "sha256:" + hex.EncodeToString(sum[:])
	p.Source = name
	return p, nil
}

func yamlError(name string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if m := regexp.MustCompile(`^line (\d+): `).FindStringSubmatch(msg); m != nil {
		fmt.Sscanf(m[1], "%d", &line)
		msg = strings.TrimPrefix(msg, m[0])
	}
	return &Error{File: name, Line: line, Msg: msg}
}

// keyLines maps dotted key paths ("checks.SEC-001.severity", "exceptions[2]") to lines.
func keyLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				out[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", prefix, i)
				out[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return out
}

func compile(name string, f *File, lines map[string]int, strictIDs bool) (*Policy, error) {
	fail := func(key, format string, args ...any) error {
		return &Error{File: name, Line: lines[key], Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	p := Default()
	if f.APIVersion != "" && f.APIVersion != APIVersion {
		return nil, fail("apiVersion", "unsupported version %q (this shipshape reads %q)", f.APIVersion, APIVersion)
	}
	if f.Kind != "" && f.Kind != "Policy" {
		return nil, fail("kind", "want Policy, got %q", f.Kind)
	}
	if f.FailOn != "" && f.FailOn != "veto" {
		sev, err := checks.ParseSeverity(f.FailOn)
		if err != nil {
			return nil, fail("failOn", "%v", err)
		}
		p.FailOn = &sev
	}
	for id, o := range f.Checks {
		key := "checks." + id
		if _, ok := checks.Lookup(id); !ok {
			return nil, fail(key, "no check %q (see `shipshape policy explain` or docs/checks.md)", id)
		}
		ov := Override{Veto: o.Veto, Disabled: o.Disabled}
		if o.Severity != "" {
			sev, err := checks.ParseSeverity(o.Severity)
			if err != nil {
				return nil, fail(key+".severity", "%v", err)
			}
			ov.Severity = &sev
		}
		p.Overrides[strings.ToUpper(id)] = ov
	}
	t := f.Thresholds
	if t.CVSS != nil {
		if *t.CVSS < 0 || *t.CVSS > 10 {
			return nil, fail("thresholds.cvss", "a CVSS score is between 0 and 10, got %v", *t.CVSS)
		}
		p.CVSS = *t.CVSS
		p.Settings.CVSS = *t.CVSS
	}
	if t.MaxImageAgeDays != nil {
		if *t.MaxImageAgeDays <= 0 {
			return nil, fail("thresholds.maxImageAgeDays", "must be positive")
		}
		p.Settings.MaxImageAge = time.Duration(*t.MaxImageAgeDays) * 24 * time.Hour
	}
	if t.EOLWarningDays != nil {
		if *t.EOLWarningDays < 0 {
			return nil, fail("thresholds.eolWarningDays", "must not be negative")
		}
		p.Settings.EOLWarning = time.Duration(*t.EOLWarningDays) * 24 * time.Hour
	}
	if err := compileService(&p.Service, f.Service, fail); err != nil {
		return nil, err
	}
	p.Settings.RequiredLabels = f.RequiredLabels
	p.Settings.AllowedSetuid = f.AllowedSetuid
	p.TrustedRegistries = f.TrustedRegistries
	if err := compileSupply(p, f, fail, filepath.Dir(name)); err != nil {
		return nil, err
	}
	if f.Licenses.Deny != nil {
		p.DeniedLicenses = f.Licenses.Deny
	}
	p.AllowedLicenses = f.Licenses.Allow
	p.Settings.DeniedLicenses = p.DeniedLicenses
	p.Settings.AllowedLicenses = p.AllowedLicenses
	for i, r := range f.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		cr, err := compileRule(r)
		if err != nil {
			return nil, fail(key, "%v", err)
		}
		p.Rules = append(p.Rules, cr)
	}
	for i, e := range f.Exceptions {
		key := fmt.Sprintf("exceptions[%d]", i)
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fail(key, "an exception needs a reason")
		}
		if e.Check == "" && e.Vulnerability == "" && e.Package == "" && e.Path == "" && e.Image == "" {
			return nil, fail(key, "an exception needs at least one of check, vulnerability, package, path, image")
		}
		if e.Check != "" {
			if _, ok := checks.Lookup(e.Check); !ok && !p.hasRule(e.Check) && (strictIDs || !idPattern.MatchString(strings.ToUpper(e.Check))) {
				return nil, fail(key+".check", "no check %q", e.Check)
			}
		}
		if e.Expires != "" {
			d, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return nil, fail(key+".expires", "want a date as YYYY-MM-DD, got %q", e.Expires)
			}
			e.expires = d.Add(24*time.Hour - time.Nanosecond)
		}
		e.line = lines[key]
		p.Exceptions = append(p.Exceptions, e)
	}
	return p, nil
}

func (p *Policy) hasRule(id string) bool {
	for _, r := range p.Rules {
		if strings.EqualFold(r.ID, id) {
			return true
		}
	}
	return false
}

// Rule returns the custom rule with that ID, or nil.
func (p *Policy) Rule(id string) *CompiledRule {
	for _, r := range p.Rules {
		if strings.EqualFold(r.ID, id) {
			return r
		}
	}
	return nil
}

// ParseExceptions reads an exceptions file: a YAML document with an
// `exceptions:` list in the policy file's format (and nothing else).
func ParseExceptions(name string, data []byte) ([]Exception, error) {
	var probe map[string]any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, yamlError(name, err)
	}
	for k := range probe {
		if k != "exceptions" && k != "apiVersion" && k != "kind" {
			return nil, &Error{File: name, Key: k, Msg: "an exceptions file holds only `exceptions:`; put other settings in the policy file"}
		}
	}
	p, err := parse(name, data, false)
	if err != nil {
		return nil, err
	}
	return p.Exceptions, nil
}

// AddExceptions merges exceptions read from an exceptions file, checking that
// each names a check this policy knows (built-in or one of its rules).
func (p *Policy) AddExceptions(file string, ex []Exception) error {
	for _, e := range ex {
		if e.Check != "" {
			if _, ok := checks.Lookup(e.Check); !ok && !p.hasRule(e.Check) {
				return &Error{File: file, Line: e.line, Key: "check", Msg: fmt.Sprintf("no check or policy rule %q", e.Check)}
			}
		}
	}
	p.Exceptions = append(p.Exceptions, ex...)
	return nil
}

// SignaturesFile are the trust anchors of SEC-031 and SEC-032.
type SignaturesFile struct {
	// Keys are cosign public key files (PEM), relative to the policy file.
	Keys []string `yaml:"keys,omitempty"`
	// Identities are keyless signers, verified against TrustedRoot.
	Identities []IdentityFile `yaml:"identities,omitempty"`
	// TrustedRoot is a Sigstore trusted_root.json (Fulcio CAs, Rekor and CT keys).
	TrustedRoot string `yaml:"trustedRoot,omitempty"`
	// SkipTransparencyLog and SkipSCT relax keyless verification (private PKI).
	SkipTransparencyLog bool `yaml:"skipTransparencyLog,omitempty"`
	SkipSCT             bool `yaml:"skipSCT,omitempty"`
}

// IdentityFile is a keyless signer: the certificate subject and its OIDC issuer.
type IdentityFile struct {
	Issuer        string `yaml:"issuer,omitempty"`
	Subject       string `yaml:"subject,omitempty"`
	IssuerRegExp  string `yaml:"issuerRegExp,omitempty"`
	SubjectRegExp string `yaml:"subjectRegExp,omitempty"`
}

// UpstreamFile tunes MNT-007.
type UpstreamFile struct {
	// Sources map image repositories (trustedRegistries patterns) to their source repositories.
	Sources []SourceFile `yaml:"sources,omitempty"`
}

// SourceFile maps image repositories to a source repository.
type SourceFile struct {
	Image      string `yaml:"image"`
	Repository string `yaml:"repository"`
}

var pinnedDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// compileSupply checks and loads the supply-chain keys: trusted registries,
// signature trust anchors (key files are read now, so a bad one stops the
// run before any image is read), upstream sources and the upstream age.
func compileSupply(p *Policy, f *File, fail func(key, format string, args ...any) error, dir string) error {
	for i, pat := range f.TrustedRegistries {
		key := fmt.Sprintf("trustedRegistries[%d]", i)
		repo, digest, pinned := strings.Cut(pat, "@")
		if _, err := path.Match(repo, ""); err != nil || strings.TrimSpace(repo) == "" {
			return fail(key, "bad pattern %q", pat)
		}
		if pinned && !pinnedDigest.MatchString(digest) {
			return fail(key, "a pinned exception is repository@sha256:<64 hex digits>, got %q", pat)
		}
	}
	p.Settings.TrustedRegistries = f.TrustedRegistries
	p.Settings.RequireSignature = f.RequireSignature
	if d := f.Thresholds.MaxUpstreamAgeDays; d != nil {
		if *d <= 0 {
			return fail("thresholds.maxUpstreamAgeDays", "must be positive")
		}
		p.Settings.MaxUpstreamAge = time.Duration(*d) * 24 * time.Hour
	}
	sf := f.Signatures
	rel := func(name string) string {
		if filepath.IsAbs(name) {
			return name
		}
		return filepath.Join(dir, name)
	}
	for i, k := range sf.Keys {
		key, err := signature.LoadKey(rel(k))
		if err != nil {
			return fail(fmt.Sprintf("signatures.keys[%d]", i), "%v", err)
		}
		key.Name = k
		p.Trust.Keys = append(p.Trust.Keys, key)
	}
	for i, id := range sf.Identities {
		sid := signature.Identity{Issuer: id.Issuer, Subject: id.Subject, IssuerRegExp: id.IssuerRegExp, SubjectRegExp: id.SubjectRegExp}
		if err := sid.Validate(); err != nil {
			return fail(fmt.Sprintf("signatures.identities[%d]", i), "%v", err)
		}
		p.Trust.Identities = append(p.Trust.Identities, sid)
	}
	if sf.TrustedRoot != "" {
		tr, err := signature.LoadTrustedRoot(rel(sf.TrustedRoot))
		if err != nil {
			return fail("signatures.trustedRoot", "%v", err)
		}
		p.Trust.TrustedRoot, p.Trust.TrustedRootFile = tr, sf.TrustedRoot
	}
	if len(sf.Identities) > 0 && sf.TrustedRoot == "" {
		return fail("signatures.identities", "keyless identities need signatures.trustedRoot (a Sigstore trusted_root.json, e.g. from `cosign trusted-root create` or the public-good TUF repository)")
	}
	p.Trust.SkipTlog, p.Trust.SkipSCT = sf.SkipTransparencyLog, sf.SkipSCT
	if f.RequireSignature && p.Trust.Empty() {
		return fail("requireSignature", "requiring signatures needs signatures.keys or signatures.identities to verify them with")
	}
	for i, m := range f.Upstream.Sources {
		key := fmt.Sprintf("upstream.sources[%d]", i)
		if strings.TrimSpace(m.Image) == "" {
			return fail(key+".image", "an image pattern is required")
		}
		if _, err := forge.ParseRepo(m.Repository); err != nil {
			return fail(key+".repository", "%v", err)
		}
		p.UpstreamSources = append(p.UpstreamSources, supplychain.SourceMapping{Image: m.Image, Repository: m.Repository})
	}
	return nil
}

func compileService(s *Service, f ServiceFile, fail func(key, format string, args ...any) error) error {
	if f.AutoApprove != nil {
		s.AutoApprove = *f.AutoApprove
	}
	days := func(key string, v *int, min int, dst *time.Duration) error {
		if v == nil {
			return nil
		}
		if *v < min {
			return fail("service."+key, "must be at least %d days, got %d", min, *v)
		}
		*dst = time.Duration(*v) * 24 * time.Hour
		return nil
	}
	if err := days("reevaluateDays", f.ReevaluateDays, 1, &s.Reevaluate); err != nil {
		return err
	}
	if err := days("graceDays", f.GraceDays, 0, &s.Grace); err != nil {
		return err
	}
	return days("validityDays", f.ValidityDays, 0, &s.Validity)
}
