package forge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v90/github"
)

// DefaultGitHubAPI is the public GitHub REST API.
const DefaultGitHubAPI = "https://api.github.com/"

// DefaultTTL is how long a forge's answer is reused from the cache.
const DefaultTTL = 24 * time.Hour

// maxResponse bounds one API response body.
const maxResponse = 8 << 20

// issueSample is how many recent issues are read to judge responsiveness.
const issueSample = 50

// Options configure a Client.
type Options struct {
	// BaseURL is the GitHub REST API root (default DefaultGitHubAPI); a
	// GitHub Enterprise server is "https://HOST/api/v3/".
	BaseURL string
	// Hosts are the repository hosts the API serves (default github.com,
	// plus the Enterprise host of BaseURL).
	Hosts []string
	// Token authenticates requests (GITHUB_TOKEN); empty is anonymous.
	Token string
	// CacheDir holds cached answers; empty disables the cache.
	CacheDir string
	// TTL is how long a cached answer is used without asking (default DefaultTTL).
	TTL time.Duration
	// Offline never asks the forge: cached answers only, however old.
	Offline bool
	// HTTP is the client for API calls; nil means one with a 30s timeout.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client asks GitHub about repositories.
type Client struct {
	o     Options
	gh    *github.Client
	cache cache
	hosts map[string]bool
}

// New returns a client. It does not contact the forge.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultGitHubAPI
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("forge URL %q: want http(s)://host/path/", o.BaseURL)
	}
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	hc = &http.Client{Timeout: hc.Timeout, Jar: hc.Jar, CheckRedirect: hc.CheckRedirect, Transport: limitTransport{next: hc.Transport, max: maxResponse}}
	opts := []github.ClientOptionsFunc{github.WithHTTPClient(hc), github.WithURLs(&o.BaseURL, nil), github.WithUserAgent("shipshape")}
	if o.Token != "" {
		opts = append(opts, github.WithAuthToken(o.Token))
	}
	gh, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("forge client: %w", err)
	}
	c := &Client{o: o, gh: gh, cache: cache{dir: o.CacheDir}, hosts: map[string]bool{}}
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"github.com"}
		if h := base.Hostname(); h != "api.github.com" && !isLoopback(h) {
			hosts = append(hosts, strings.TrimPrefix(h, "api."))
		}
	}
	for _, h := range hosts {
		c.hosts[strings.ToLower(h)] = true
	}
	return c, nil
}

func isLoopback(h string) bool { return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" }

// Supports says whether the client can ask about repositories on host.
func (c *Client) Supports(host string) bool { return c.hosts[strings.ToLower(host)] }

// Health returns what the forge says about r: from the cache while it is
// fresh, else from the API. When the API cannot answer (offline, rate
// limited, an error) a stale cached answer is returned marked Stale, and
// without one the error. A repository the forge does not have is a Health
// with Found false, not an error.
func (c *Client) Health(ctx context.Context, r Repo) (*Health, error) {
	if !c.Supports(r.Host) {
		return nil, &UnsupportedError{Host: r.Host}
	}
	owner, name, ok := r.ownerName()
	if !ok {
		return nil, fmt.Errorf("%s: a GitHub repository is owner/name", r)
	}
	now := c.o.Now()
	cached := c.cache.get(r)
	if cached != nil && now.Sub(cached.FetchedAt) < c.o.TTL {
		return cached, nil
	}
	stale := func(err error) (*Health, error) {
		if cached == nil {
			return nil, err
		}
		cached.Stale, cached.StaleReason = true, err.Error()
		return cached, nil
	}
	if c.o.Offline {
		return stale(ErrOffline)
	}
	if l := c.cache.limited(r.Host, now); l != nil {
		return stale(l)
	}
	h, err := c.fetch(ctx, r, owner, name)
	if err != nil {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			if werr := c.cache.recordLimit(rl); werr != nil {
				slog.Warn("forge cache", "err", werr)
			}
		}
		return stale(err)
	}
	if err := c.cache.put(h); err != nil {
		slog.Warn("forge cache", "err", err)
	}
	return h, nil
}

// fetch asks the API: the repository, the head of its default branch, its
// latest release and its recent issues.
func (c *Client) fetch(ctx context.Context, r Repo, owner, name string) (*Health, error) {
	h := &Health{Repo: r, FetchedAt: c.o.Now().UTC()}
	repo, _, err := c.gh.Repositories.Get(ctx, owner, name)
	if isStatus(err, http.StatusNotFound) {
		return h, nil
	}
	if err != nil {
		return nil, c.apiErr(r, "repository", err)
	}
	h.Found = true
	h.Archived, h.Disabled, h.Fork = repo.GetArchived(), repo.GetDisabled(), repo.GetFork()
	h.DefaultBranch = repo.GetDefaultBranch()
	h.PushedAt = repo.GetPushedAt().Time.UTC()
	if h.DefaultBranch == "" {
		return nil, fmt.Errorf("%s: the API answer has no default branch (not a GitHub repository answer)", r)
	}
	commits, _, err := c.gh.Repositories.ListCommits(ctx, owner, name, &github.CommitsListOptions{SHA: h.DefaultBranch, ListOptions: github.ListOptions{PerPage: 1}})
	switch {
	case isStatus(err, http.StatusConflict), isStatus(err, http.StatusNotFound):
		// An empty repository: no commit at all.
	case err != nil:
		return nil, c.apiErr(r, "commits", err)
	case len(commits) > 0:
		head := commits[0]
		h.LastCommitSHA = head.GetSHA()
		h.LastCommit = head.GetCommit().GetCommitter().GetDate().Time.UTC()
		if h.LastCommit.IsZero() {
			h.LastCommit = head.GetCommit().GetAuthor().GetDate().Time.UTC()
		}
	}
	rel, _, err := c.gh.Repositories.GetLatestRelease(ctx, owner, name)
	switch {
	case isStatus(err, http.StatusNotFound):
	case err != nil:
		return nil, c.apiErr(r, "latest release", err)
	default:
		h.LastRelease = &Release{Tag: rel.GetTagName(), Published: rel.GetPublishedAt().Time.UTC()}
	}
	if repo.GetHasIssues() {
		issues, _, err := c.gh.Issues.ListByRepo(ctx, owner, name, &github.IssueListByRepoOptions{State: "all", Sort: "created", Direction: "desc",
			ListOptions: github.ListOptions{PerPage: issueSample}})
		if err != nil && !isStatus(err, http.StatusGone) && !isStatus(err, http.StatusNotFound) {
			return nil, c.apiErr(r, "issues", err)
		}
		h.Issues = issueStats(issues, h.FetchedAt)
	}
	return h, nil
}

// issueStats counts the answered issues among those opened between a year
// and two weeks before now.
func issueStats(issues []*github.Issue, now time.Time) *IssueStats {
	st := &IssueStats{}
	for _, is := range issues {
		if is.IsPullRequest() {
			continue
		}
		age := now.Sub(is.GetCreatedAt().Time)
		if age < 14*24*time.Hour || age > 365*24*time.Hour {
			continue
		}
		st.Sampled++
		if is.GetComments() > 0 || is.GetState() == "closed" {
			st.Answered++
		}
	}
	return st
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

// apiErr names what failed, turning GitHub's rate limit answers into a RateLimitError.
func (c *Client) apiErr(r Repo, what string, err error) error {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return &RateLimitError{Host: r.Host, Reset: rl.Rate.Reset.Time, Msg: rl.Message}
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		reset := c.o.Now().Add(time.Minute)
		if ab.RetryAfter != nil {
			reset = c.o.Now().Add(*ab.RetryAfter)
		}
		return &RateLimitError{Host: r.Host, Reset: reset, Msg: ab.Message}
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests {
		reset := c.o.Now().Add(time.Minute)
		if s, perr := strconv.Atoi(er.Response.Header.Get("Retry-After")); perr == nil && s >= 0 {
			reset = c.o.Now().Add(time.Duration(s) * time.Second)
		}
		return &RateLimitError{Host: r.Host, Reset: reset, Msg: er.Message}
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s %s: the forge's answer is not the JSON GitHub sends: %w", r, what, err)
	}
	return fmt.Errorf("%s %s: %w", r, what, err)
}

// limitTransport caps response bodies so a hostile server cannot exhaust memory.
type limitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errTooLarge = errors.New("forge response over the size limit")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
