// Package forge asks a source forge how well a repository is maintained:
// archived or not, the last commit on the default branch, the last release,
// and whether recent issues get an answer. GitHub (and GitHub Enterprise) is
// spoken through github.com/google/go-github; answers are cached on disk
// with a time to live, and rate limits are honoured, never worked around.
package forge

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Repo names a repository on a forge.
type Repo struct {
	// Host is the forge's web host ("github.com").
	Host string `json:"host"`
	// Path is the repository's path on the host ("owner/name"; GitLab
	// groups may nest deeper).
	Path string `json:"path"`
}

// String returns "host/path".
func (r Repo) String() string { return r.Host + "/" + r.Path }

// URL returns the repository's web address.
func (r Repo) URL() string { return "https://" + r.String() }

// ownerName splits a two-segment path.
func (r Repo) ownerName() (string, string, bool) {
	o, n, ok := strings.Cut(r.Path, "/")
	return o, n, ok && !strings.Contains(n, "/")
}

var segment = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// ParseRepo reads a repository from what labels and provenance carry:
// https URLs (with or without .git, a tree/blob suffix or a #ref), git+https,
// ssh://git@host/path, git@host:path, or a bare host/owner/name.
func ParseRepo(raw string) (Repo, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Repo{}, errors.New("empty repository URL")
	}
	s = strings.TrimPrefix(s, "git+")
	if i := strings.IndexAny(s, "#?"); i >= 0 {
		s = s[:i]
	}
	var host, p string
	switch {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil {
			return Repo{}, fmt.Errorf("repository URL %q: %w", clip(raw), err)
		}
		if u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh" && u.Scheme != "git" {
			return Repo{}, fmt.Errorf("repository URL %q: scheme %q is not a forge's", clip(raw), u.Scheme)
		}
		host, p = u.Hostname(), u.Path
	case strings.HasPrefix(s, "git@"):
		h, rest, ok := strings.Cut(strings.TrimPrefix(s, "git@"), ":")
		if !ok {
			return Repo{}, fmt.Errorf("repository URL %q: want git@host:owner/name", clip(raw))
		}
		host, p = h, rest
	default:
		host, p, _ = strings.Cut(s, "/")
	}
	host = strings.ToLower(strings.TrimPrefix(host, "www."))
	if host == "" || !strings.Contains(host, ".") && host != "localhost" {
		return Repo{}, fmt.Errorf("repository URL %q: no forge host", clip(raw))
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if host == "github.com" || strings.HasPrefix(host, "github.") {
		// github.com/owner/name/tree/main/dir names the repository owner/name.
		if len(segs) > 2 {
			segs = segs[:2]
		}
	} else if i := indexOf(segs, "-"); i > 0 {
		segs = segs[:i] // GitLab: group/project/-/tree/main
	}
	if len(segs) < 2 {
		return Repo{}, fmt.Errorf("repository URL %q: want host/owner/name", clip(raw))
	}
	last := segs[len(segs)-1]
	if i := strings.Index(last, "@"); i > 0 {
		last = last[:i] // git+https://host/o/r@refs/heads/main
	}
	segs[len(segs)-1] = strings.TrimSuffix(last, ".git")
	for _, sg := range segs {
		if !segment.MatchString(sg) || sg == "." || sg == ".." {
			return Repo{}, fmt.Errorf("repository URL %q: %q is not a repository name", clip(raw), clip(sg))
		}
	}
	return Repo{Host: host, Path: strings.Join(segs, "/")}, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// Health is what the forge says about a repository.
type Health struct {
	Repo Repo `json:"repo"`
	// Found is false when the forge has no such repository (deleted,
	// renamed away, or private to the token used).
	Found         bool   `json:"found"`
	Archived      bool   `json:"archived,omitempty"`
	Disabled      bool   `json:"disabled,omitempty"`
	Fork          bool   `json:"fork,omitempty"`
	DefaultBranch string `json:"default_branch,omitempty"`
	// LastCommit is the committer date of the head of the default branch;
	// zero when the branch has no commit.
	LastCommit    time.Time `json:"last_commit,omitzero"`
	LastCommitSHA string    `json:"last_commit_sha,omitempty"`
	PushedAt      time.Time `json:"pushed_at,omitzero"`
	// LastRelease is nil when the repository has no release.
	LastRelease *Release `json:"last_release,omitempty"`
	// Issues says how recent issues were answered; nil when issues are off.
	Issues *IssueStats `json:"issues,omitempty"`
	// FetchedAt is when the forge was asked.
	FetchedAt time.Time `json:"fetched_at"`

	// FromCache says the answer came from the on-disk cache; Stale that it
	// is older than the cache's time to live (used because the forge could
	// not be asked: StaleReason says why).
	FromCache   bool   `json:"-"`
	Stale       bool   `json:"-"`
	StaleReason string `json:"-"`
}

// Release is a published release.
type Release struct {
	Tag       string    `json:"tag"`
	Published time.Time `json:"published"`
}

// IssueStats describes the answers to issues opened in the year before the
// last two weeks (younger issues have not had time to be answered).
type IssueStats struct {
	// Sampled is how many such issues were looked at (pull requests excluded).
	Sampled int `json:"sampled"`
	// Answered is how many got a comment or were closed.
	Answered int `json:"answered"`
}

// RateLimitError says the forge refused to answer until Reset.
type RateLimitError struct {
	Host  string
	Reset time.Time
	Msg   string
}

func (e *RateLimitError) Error() string {
	when := "later"
	if !e.Reset.IsZero() {
		when = "after " + e.Reset.UTC().Format(time.RFC3339)
	}
	msg := fmt.Sprintf("%s API rate limit exceeded; try again %s", e.Host, when)
	if e.Msg != "" {
		msg += " (" + e.Msg + ")"
	}
	return msg + "; set GITHUB_TOKEN for a higher limit"
}

// ErrOffline says the forge was not asked because the run is offline and
// nothing is cached.
var ErrOffline = errors.New("offline, and no cached answer")

// UnsupportedError says the repository is on a forge this client does not speak.
type UnsupportedError struct{ Host string }

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s is not a supported forge (GitHub, or the GitHub Enterprise given with --forge-url)", e.Host)
}
