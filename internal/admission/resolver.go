package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"
)

// Resolver turns an image reference as written in a pod spec into the digest the
// container runtime will pull. References that carry a digest resolve to it
// without any lookup.
type Resolver interface {
	Resolve(ctx context.Context, ref string) (digest string, err error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, ref string) (string, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, ref string) (string, error) { return f(ctx, ref) }

// HeadFunc asks a registry which digest a tag points to (the registry HEAD).
type HeadFunc func(ctx context.Context, ref name.Tag) (digest string, err error)

// RemoteHead is the HeadFunc of go-containerregistry: remote.Head with the
// given options (authentication, transport, user agent...). The request's
// context is added to them.
func RemoteHead(opts ...remote.Option) HeadFunc {
	return func(ctx context.Context, ref name.Tag) (string, error) {
		o := append(append([]remote.Option(nil), opts...), remote.WithContext(ctx))
		desc, err := remote.Head(ref, o...)
		if err != nil {
			return "", err
		}
		return desc.Digest.String(), nil
	}
}

// ParseRef parses an image reference the way the container runtime does
// (docker.io and library/ defaults, :latest when there is neither tag nor
// digest). It returns the digest when the reference carries one.
func ParseRef(ref string) (name.Reference, string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, "", err
	}
	if d, ok := r.(name.Digest); ok {
		return r, d.DigestStr(), nil
	}
	return r, "", nil
}

// CacheOptions tune a CachingResolver. Zero values take the defaults.
type CacheOptions struct {
	// TTL is how long a resolved tag is trusted (default 30 s). A tag moved in
	// the registry is seen within TTL.
	TTL time.Duration
	// RefreshAfter is the age after which a hit also starts a background refresh,
	// so that tags in use never expire on the request path (default TTL/2).
	RefreshAfter time.Duration
	// ErrorTTL is how long a failed resolution is remembered, so that a registry
	// that is down is not asked again for every review (default 2 s).
	ErrorTTL time.Duration
	// MaxEntries bounds the cache (default 10000); expired entries go first.
	MaxEntries int
	// RefreshTimeout bounds a background refresh (default 10 s).
	RefreshTimeout time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// CachingResolver is a Resolver with a tag-to-digest cache: a short TTL, a
// background refresh of entries in use, and one registry request at a time per
// reference (singleflight). It is safe for concurrent use.
type CachingResolver struct {
	head HeadFunc
	opt  CacheOptions

	mu      sync.Mutex
	entries map[string]*cacheEntry
	group   singleflight.Group
}

type cacheEntry struct {
	tag        name.Tag
	digest     string
	err        error
	at         time.Time
	refreshing bool
}

// NewCachingResolver returns a CachingResolver asking head on a miss.
func NewCachingResolver(head HeadFunc, opt CacheOptions) *CachingResolver {
	if opt.TTL <= 0 {
		opt.TTL = 30 * time.Second
	}
	if opt.RefreshAfter <= 0 || opt.RefreshAfter > opt.TTL {
		opt.RefreshAfter = opt.TTL / 2
	}
	if opt.ErrorTTL <= 0 {
		opt.ErrorTTL = 2 * time.Second
	}
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = 10000
	}
	if opt.RefreshTimeout <= 0 {
		opt.RefreshTimeout = 10 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &CachingResolver{head: head, opt: opt, entries: map[string]*cacheEntry{}}
}

// Resolve implements Resolver. The cache is keyed by the reference as written
// (so a hit costs one map lookup, no parsing); two spellings of one tag are two
// entries.
func (c *CachingResolver) Resolve(ctx context.Context, ref string) (string, error) {
	now := c.opt.Now()
	c.mu.Lock()
	if e, ok := c.entries[ref]; ok {
		age := now.Sub(e.at)
		if e.err != nil && age < c.opt.ErrorTTL {
			c.mu.Unlock()
			return "", e.err
		}
		if e.err == nil && age < c.opt.TTL {
			if age >= c.opt.RefreshAfter && !e.refreshing {
				e.refreshing = true
				go c.refresh(e.tag, ref)
			}
			c.mu.Unlock()
			return e.digest, nil
		}
	}
	c.mu.Unlock()
	r, digest, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	if digest != "" {
		return digest, nil
	}
	return c.fetch(ctx, r.(name.Tag), ref)
}

// cached reports whether ref resolves from the cache (a fresh entry), so that
// the Handler can judge it without a goroutine of its own.
func (c *CachingResolver) cached(ref string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[ref]
	return ok && e.err == nil && c.opt.Now().Sub(e.at) < c.opt.TTL
}

// fetch resolves on the request path; concurrent callers for one reference
// share one registry request, and each still honours its own context.
func (c *CachingResolver) fetch(ctx context.Context, tag name.Tag, key string) (string, error) {
	ch := c.group.DoChan(key, func() (any, error) {
		// Detached from the first caller's cancellation so that one impatient
		// caller does not fail the others; bounded by RefreshTimeout.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.RefreshTimeout)
		defer cancel()
		d, err := c.head(fctx, tag)
		c.store(key, tag, d, err)
		return d, err
	})
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("resolving %s: %w", tag.Name(), context.Cause(ctx))
	case res := <-ch:
		if res.Err != nil {
			return "", fmt.Errorf("resolving %s: %w", tag.Name(), res.Err)
		}
		return res.Val.(string), nil
	}
}

func (c *CachingResolver) refresh(tag name.Tag, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.RefreshTimeout)
	defer cancel()
	_, _, _ = c.group.Do(key, func() (any, error) {
		d, err := c.head(ctx, tag)
		if err != nil {
			// Keep the entry we have: it expires at its TTL and the next
			// request resolves again on the request path.
			c.mu.Lock()
			if e, ok := c.entries[key]; ok {
				e.refreshing = false
			}
			c.mu.Unlock()
			return nil, err
		}
		c.store(key, tag, d, nil)
		return d, nil
	})
}

func (c *CachingResolver) store(key string, tag name.Tag, digest string, err error) {
	if err == nil && digest == "" {
		err = errors.New("registry returned no digest")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.opt.MaxEntries {
		c.evictLocked()
	}
	c.entries[key] = &cacheEntry{tag: tag, digest: digest, err: err, at: c.opt.Now()}
}

// evictLocked drops expired entries, then arbitrary ones down to 90% of MaxEntries.
func (c *CachingResolver) evictLocked() {
	now := c.opt.Now()
	for k, e := range c.entries {
		if now.Sub(e.at) >= c.opt.TTL {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.opt.MaxEntries*9/10 {
			break
		}
		delete(c.entries, k)
	}
}

// Len returns the number of cached references.
func (c *CachingResolver) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
