package admission

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// Mode is what a namespace's decision does when an image is not admitted.
type Mode string

// The modes.
const (
	// ModeEnforce denies the request.
	ModeEnforce Mode = "enforce"
	// ModeWarn allows it with warnings shown to the client (kubectl prints them).
	ModeWarn Mode = "warn"
	// ModeAudit allows it silently and only records the decision (and audit annotations).
	ModeAudit Mode = "audit"
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeEnforce, ModeWarn, ModeAudit:
		return m, nil
	}
	return "", fmt.Errorf("unknown admission mode %q (enforce, warn or audit)", s)
}

// ModeRule picks a mode for the requests it matches. Every non-empty condition
// must hold; the first matching rule of Config.Rules wins.
type ModeRule struct {
	// Namespaces are namespace names or path.Match patterns ("team-*").
	Namespaces []string `json:"namespaces,omitempty" yaml:"namespaces,omitempty"`
	// ObjectSelector is a Kubernetes label selector ("tier=prod,!canary") on the
	// labels of the admitted object.
	ObjectSelector string `json:"objectSelector,omitempty" yaml:"objectSelector,omitempty"`
	// NamespaceSelector is a label selector on the namespace's labels; it needs
	// Config.NamespaceLabels.
	NamespaceSelector string `json:"namespaceSelector,omitempty" yaml:"namespaceSelector,omitempty"`
	// Mode is the mode of the matching requests.
	Mode Mode `json:"mode" yaml:"mode"`

	objSel, nsSel labels.Selector
}

// Default values of Config.
const (
	DefaultBreakGlassAnnotation       = "shipshape.dev/break-glass"
	DefaultBreakGlassReasonAnnotation = "shipshape.dev/break-glass-reason"
	DefaultDeadline                   = 3 * time.Second
	DefaultMaxBodyBytes               = 3 << 20
	DefaultWarnBeforeExpiry           = 7 * 24 * time.Hour
	DefaultMaxImages                  = 2000
)

// Config is the admission policy. The zero value is usable: enforce everywhere
// except kube-system, no break-glass, a 3 s deadline.
type Config struct {
	// DefaultMode applies when no rule matches (default enforce).
	DefaultMode Mode
	// Rules choose a mode by namespace and labels; the first match wins.
	Rules []ModeRule
	// ExemptNamespaces are never judged. Nil means kube-system; an empty non-nil
	// slice exempts nothing.
	ExemptNamespaces []string
	// BreakGlassTokenSHA256 is the hex SHA-256 of the break-glass token. Empty
	// disables break-glass.
	BreakGlassTokenSHA256 string
	// BreakGlassAnnotation holds the token on the object or its pod template
	// (default shipshape.dev/break-glass).
	BreakGlassAnnotation string
	// BreakGlassReasonAnnotation must hold a non-empty reason for break-glass to
	// apply (default shipshape.dev/break-glass-reason).
	BreakGlassReasonAnnotation string
	// DashboardURL is the base URL of the dashboard; messages link
	// DashboardURL/images/DIGEST. Empty: no links.
	DashboardURL string
	// WarnBeforeExpiry: an admitted image whose approval ends within this
	// duration gets a warning (default 7 days; negative disables).
	WarnBeforeExpiry time.Duration
	// Deadline bounds the decision of one review; it must be below the webhook's
	// timeoutSeconds so that the handler, not the API server, decides what a slow
	// answer means (default 3 s).
	Deadline time.Duration
	// MaxBodyBytes bounds a request body (default 3 MiB: the API server's own
	// limit on an object is about 1.5 MiB, and a review holds two).
	MaxBodyBytes int64
	// MaxImages bounds the distinct images judged in one review (default 2000);
	// beyond it the review is malformed.
	MaxImages int
	// EnableMutation serves the digest-pinning endpoint (off by default).
	EnableMutation bool
	// NamespaceLabels returns a namespace's labels for NamespaceSelector rules,
	// from memory (an informer). On error the namespace is put in enforce mode.
	NamespaceLabels func(ctx context.Context, namespace string) (map[string]string, error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	tokenHash []byte
}

// normalize checks the configuration and fills in the defaults.
func (c Config) normalize() (Config, error) {
	var errs []error
	if c.DefaultMode == "" {
		c.DefaultMode = ModeEnforce
	} else if m, err := ParseMode(string(c.DefaultMode)); err != nil {
		errs = append(errs, err)
	} else {
		c.DefaultMode = m
	}
	rules := make([]ModeRule, len(c.Rules))
	for i, r := range c.Rules {
		m, err := ParseMode(string(r.Mode))
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i, err))
		}
		r.Mode = m
		for _, ns := range r.Namespaces {
			if _, err := path.Match(ns, ""); err != nil {
				errs = append(errs, fmt.Errorf("rule %d: namespace pattern %q: %w", i, ns, err))
			}
		}
		if r.ObjectSelector != "" {
			if r.objSel, err = labels.Parse(r.ObjectSelector); err != nil {
				errs = append(errs, fmt.Errorf("rule %d: objectSelector: %w", i, err))
			}
		}
		if r.NamespaceSelector != "" {
			if c.NamespaceLabels == nil {
				errs = append(errs, fmt.Errorf("rule %d: namespaceSelector needs Config.NamespaceLabels", i))
			}
			if r.nsSel, err = labels.Parse(r.NamespaceSelector); err != nil {
				errs = append(errs, fmt.Errorf("rule %d: namespaceSelector: %w", i, err))
			}
		}
		rules[i] = r
	}
	c.Rules = rules
	if c.ExemptNamespaces == nil {
		c.ExemptNamespaces = []string{"kube-system"}
	}
	if c.BreakGlassAnnotation == "" {
		c.BreakGlassAnnotation = DefaultBreakGlassAnnotation
	}
	if c.BreakGlassReasonAnnotation == "" {
		c.BreakGlassReasonAnnotation = DefaultBreakGlassReasonAnnotation
	}
	if c.BreakGlassTokenSHA256 != "" {
		h, err := hex.DecodeString(strings.TrimSpace(c.BreakGlassTokenSHA256))
		if err != nil || len(h) != 32 {
			errs = append(errs, errors.New("BreakGlassTokenSHA256 must be 64 hex digits (sha256sum of the token)"))
		}
		c.tokenHash = h
	}
	c.DashboardURL = strings.TrimRight(c.DashboardURL, "/")
	if c.WarnBeforeExpiry == 0 {
		c.WarnBeforeExpiry = DefaultWarnBeforeExpiry
	}
	if c.Deadline <= 0 {
		c.Deadline = DefaultDeadline
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxImages <= 0 {
		c.MaxImages = DefaultMaxImages
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, errors.Join(errs...)
}

func (c *Config) exempt(ns string) bool {
	for _, e := range c.ExemptNamespaces {
		if e == ns {
			return true
		}
	}
	return false
}

// mode picks the mode of a request; the second result explains a forced enforce.
func (c *Config) mode(ctx context.Context, ns string, objLabels map[string]string) (Mode, error) {
	var nsLabels labels.Set
	nsLoaded := false
	for _, r := range c.Rules {
		if len(r.Namespaces) > 0 && !matchAny(r.Namespaces, ns) {
			continue
		}
		if r.objSel != nil && !r.objSel.Matches(labels.Set(objLabels)) {
			continue
		}
		if r.nsSel != nil {
			if !nsLoaded {
				l, err := c.NamespaceLabels(ctx, ns)
				if err != nil {
					return ModeEnforce, fmt.Errorf("namespace labels of %q: %w", ns, err)
				}
				nsLabels, nsLoaded = labels.Set(l), true
			}
			if !r.nsSel.Matches(nsLabels) {
				continue
			}
		}
		return r.Mode, nil
	}
	return c.DefaultMode, nil
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// ParseModeRule reads a rule written NAMESPACES=MODE, where NAMESPACES is a
// comma-separated list of namespace names or patterns ("staging,team-*=warn"),
// the form of shipshape serve's --admission-rule.
func ParseModeRule(s string) (ModeRule, error) {
	nss, m, ok := strings.Cut(s, "=")
	if !ok {
		return ModeRule{}, fmt.Errorf("rule %q: want NAMESPACES=MODE (e.g. staging,team-*=warn)", s)
	}
	mode, err := ParseMode(m)
	if err != nil {
		return ModeRule{}, fmt.Errorf("rule %q: %w", s, err)
	}
	var r ModeRule
	for _, ns := range strings.Split(nss, ",") {
		if ns = strings.TrimSpace(ns); ns == "" {
			continue
		}
		if _, err := path.Match(ns, ""); err != nil {
			return ModeRule{}, fmt.Errorf("rule %q: namespace pattern %q: %w", s, ns, err)
		}
		r.Namespaces = append(r.Namespaces, ns)
	}
	if len(r.Namespaces) == 0 {
		return ModeRule{}, fmt.Errorf("rule %q: no namespace", s)
	}
	r.Mode = mode
	return r, nil
}
