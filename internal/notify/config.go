// Package notify sends the fleet's changes to outgoing webhooks: an image
// approved, a new veto, an approval moving to expiring, retired or revoked,
// an exception about to expire. Webhooks are configured per repository
// pattern (a YAML or JSON file, shipshape serve --notify FILE). The fleet
// calls the Notifier (a fleet.Hook) inside the transaction of each change,
// which enqueues one delivery job per matching webhook there, so a delivery
// exists if and only if the change committed. Deliveries run on their own
// queue ("notify"), with a timeout per attempt, at most two attempts in
// flight per webhook in a process, and retries with exponential backoff;
// every attempt, with the receiver's status code or the error, is listed by
// Deliveries (GET /api/v1/deliveries). Bodies carry a stable JSON schema
// (Schema) signed with HMAC-SHA256 (X-Shipshape-Signature-256), or a
// Slack-compatible {"text": ...}.
package notify

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The events a webhook subscribes to.
const (
	EventApproved          = "approved"           // an image's approval became approved (by the policy or a person)
	EventVeto              = "veto"               // an evaluation found a veto its image's previous evaluation did not have
	EventExpiring          = "expiring"           // an approved image now fails and retires at the end of its grace
	EventRetired           = "retired"            // an image was retired (failing past its grace, or past end of life)
	EventRevoked           = "revoked"            // a person revoked an image
	EventExceptionExpiring = "exception-expiring" // an exception expires within the configured days (once per exception and date)
)

// Events lists every event, in documentation order.
var Events = []string{EventApproved, EventVeto, EventExpiring, EventRetired, EventRevoked, EventExceptionExpiring}

// Formats of a webhook's body.
const (
	FormatJSON  = "json"  // the Payload
	FormatSlack = "slack" // {"text": "..."}: Slack, Mattermost, Teams workflows and the like
)

// Config is the notification file.
type Config struct {
	Webhooks []Webhook `yaml:"webhooks" json:"webhooks"`
	// ExceptionDays announces an exception this many days before it expires
	// (default 7).
	ExceptionDays int `yaml:"exceptionDays" json:"exceptionDays"`
	// DashboardURL is the dashboard's base URL, linked from every payload
	// (default: shipshape serve --dashboard-url).
	DashboardURL string `yaml:"dashboardURL" json:"dashboardURL"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// MaxAttempts before a delivery is given up, kept listed with its errors
	// (default 10).
	MaxAttempts int `yaml:"maxAttempts" json:"maxAttempts"`
}

// Webhook is one receiver.
type Webhook struct {
	// Name identifies the webhook in deliveries and logs.
	Name string `yaml:"name" json:"name"`
	// URL receives a POST per event: http or https, nothing else.
	URL string `yaml:"url" json:"url"`
	// Repositories are patterns of repositories whose images notify it
	// ("registry.example.com/team/*", ".../payments/**", "*" for all;
	// default "*").
	Repositories []string `yaml:"repositories" json:"repositories"`
	// Events it receives (see Events).
	Events []string `yaml:"events" json:"events"`
	// Secret is the HMAC-SHA256 key of X-Shipshape-Signature-256; SecretEnv
	// names an environment variable holding it instead. Required for the
	// json format.
	Secret    string `yaml:"secret" json:"secret"`
	SecretEnv string `yaml:"secretEnv" json:"secretEnv"`
	// Format is json (default) or slack.
	Format string `yaml:"format" json:"format"`

	key []byte
}

// Duration is a time.Duration written as "10s" in the file.
type Duration time.Duration

// UnmarshalYAML reads "10s", "1m30s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Load reads and validates a notification file.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// Parse reads a notification file (YAML, or JSON, which is YAML) and
// validates it; an error names the field ("webhooks[1].url: ..."). Secrets
// named by secretEnv are read from the environment now.
func Parse(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("notification config: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func fieldf(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

func (c *Config) validate() error {
	if len(c.Webhooks) == 0 {
		return fieldf("webhooks", "no webhook configured")
	}
	if c.ExceptionDays < 0 || c.ExceptionDays > 366 {
		return fieldf("exceptionDays", "want 0 to 366 days, got %d", c.ExceptionDays)
	}
	if c.ExceptionDays == 0 {
		c.ExceptionDays = 7
	}
	if c.Timeout < 0 || time.Duration(c.Timeout) > 5*time.Minute {
		return fieldf("timeout", "want at most 5m, got %s", time.Duration(c.Timeout))
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(10 * time.Second)
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 100 {
		return fieldf("maxAttempts", "want 1 to 100, got %d", c.MaxAttempts)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.DashboardURL != "" {
		if u, err := url.Parse(c.DashboardURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fieldf("dashboardURL", "want an http(s) URL, got %q", c.DashboardURL)
		}
		c.DashboardURL = strings.TrimSuffix(c.DashboardURL, "/")
	}
	seen := map[string]bool{}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		at := fmt.Sprintf("webhooks[%d]", i)
		if w.Name == "" {
			return fieldf(at+".name", "required")
		}
		if !namePattern.MatchString(w.Name) {
			return fieldf(at+".name", "%q: use letters, digits, '.', '_' and '-' (at most 63)", w.Name)
		}
		if seen[w.Name] {
			return fieldf(at+".name", "%q is used twice", w.Name)
		}
		seen[w.Name] = true
		at = fmt.Sprintf("webhooks[%d] (%s)", i, w.Name)
		if w.URL == "" {
			return fieldf(at+".url", "required")
		}
		u, err := url.Parse(w.URL)
		if err != nil {
			return fieldf(at+".url", "%v", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fieldf(at+".url", "want an http or https URL, got scheme %q", u.Scheme)
		}
		if u.Host == "" {
			return fieldf(at+".url", "no host in %q", w.URL)
		}
		if len(w.Repositories) == 0 {
			w.Repositories = []string{"*"}
		}
		for j, p := range w.Repositories {
			if _, err := path.Match(strings.TrimSuffix(p, "/**"), ""); err != nil || p == "" {
				return fieldf(fmt.Sprintf("%s.repositories[%d]", at, j), "bad pattern %q", p)
			}
		}
		if len(w.Events) == 0 {
			return fieldf(at+".events", "required: some of %s", strings.Join(Events, ", "))
		}
		for j, e := range w.Events {
			if !slices.Contains(Events, e) {
				return fieldf(fmt.Sprintf("%s.events[%d]", at, j), "unknown event %q: want %s", e, strings.Join(Events, ", "))
			}
		}
		switch w.Format {
		case "":
			w.Format = FormatJSON
		case FormatJSON, FormatSlack:
		default:
			return fieldf(at+".format", "want json or slack, got %q", w.Format)
		}
		switch {
		case w.Secret != "" && w.SecretEnv != "":
			return fieldf(at+".secret", "give secret or secretEnv, not both")
		case w.SecretEnv != "":
			v := os.Getenv(w.SecretEnv)
			if v == "" {
				return fieldf(at+".secretEnv", "environment variable %s is not set or empty", w.SecretEnv)
			}
			w.key = []byte(v)
		case w.Secret != "":
			w.key = []byte(w.Secret)
		case w.Format == FormatJSON:
			return fieldf(at+".secret", "required for the json format (or secretEnv): receivers verify X-Shipshape-Signature-256 with it")
		}
		if len(w.key) > 0 && len(w.key) < 16 {
			return fieldf(at+".secret", "at least 16 characters")
		}
	}
	return nil
}

// wants reports whether w receives event for repository ("" matches only
// the pattern "*").
func (w *Webhook) wants(event string, repositories ...string) bool {
	if !slices.Contains(w.Events, event) {
		return false
	}
	for _, p := range w.Repositories {
		if p == "*" || p == "**" {
			return true
		}
		for _, r := range repositories {
			if r != "" && matchRepository(p, r) {
				return true
			}
		}
	}
	return false
}

var errNoWebhook = errors.New("webhook no longer configured")
