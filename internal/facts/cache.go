package facts

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// DefaultCacheMax is the cache's default size bound.
const DefaultCacheMax = 2 << 30

// cacheMagic starts every cache entry; the format version follows it.
const cacheMagic = "SHIPSHAPE-FACTS\x00"

// Cache keeps the layer facts of images already read, keyed by content: the
// image's config digest (which names every layer's diff ID, in order), the
// analyzers' version and the analyzer options that change what they find.
// Entries carry a checksum: a truncated, corrupt or older entry is ignored,
// removed and rebuilt, never trusted. Writes go to a temporary file renamed
// into place, so a full disk or a crash leaves no partial entry. When the
// entries grow over Max bytes, the least recently used ones are evicted.
// A Cache is safe for concurrent use by several goroutines and processes.
type Cache struct {
	// Dir holds the entries.
	Dir string
	// Max bounds the entries' total size in bytes; 0 means DefaultCacheMax.
	Max int64
	// Log receives debug lines about ignored entries; nil means slog.Default().
	Log *slog.Logger
}

// DefaultCacheDir is $SHIPSHAPE_CACHE_DIR, else $XDG_CACHE_HOME/shipshape/facts
// (~/.cache/shipshape/facts).
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("SHIPSHAPE_CACHE_DIR"); d != "" {
		return d, nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache directory (set XDG_CACHE_HOME, or use --no-cache): %w", err)
		}
		base = d
	}
	return filepath.Join(base, "shipshape", "facts"), nil
}

// Key returns the cache key of an image's layer facts.
func Key(configDigest, analyzers string, options ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "facts v%d\n%s\n%s\n", Version, configDigest, analyzers)
	for _, o := range options {
		fmt.Fprintf(h, "%s\n", o)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key[:2], key+".facts") }

// Get returns the layer facts stored under key, or ok false. An entry that
// cannot be trusted is removed and reported as a miss.
func (c *Cache) Get(key string) (l *Layer, ok bool) {
	p := c.path(key)
	data, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log().Debug("facts cache: unreadable entry ignored", "path", p, "err", err)
		}
		return nil, false
	}
	l, err = decodeEntry(data)
	if err != nil {
		c.log().Debug("facts cache: entry ignored and removed, it will be rebuilt", "path", p, "err", err)
		_ = os.Remove(p)
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // least recently used is the oldest mtime
	return l, true
}

// Put stores l under key, then evicts the least recently used entries over
// the size bound. Errors are returned but a caller may ignore them: the cache
// only saves time.
func (c *Cache) Put(key string, l *Layer) error {
	data, err := encodeEntry(l)
	if err != nil {
		return err
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("facts cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("facts cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("facts cache: writing %s: %w", p, err)
	}
	_, err = c.Prune(c.max())
	return err
}

func (c *Cache) max() int64 {
	if c.Max > 0 {
		return c.Max
	}
	return DefaultCacheMax
}

// Stats describes the cache.
type Stats struct {
	Dir     string    `json:"dir"`
	Entries int       `json:"entries"`
	Bytes   int64     `json:"bytes"`
	Max     int64     `json:"max_bytes"`
	Oldest  time.Time `json:"oldest_use,omitempty"`
	Newest  time.Time `json:"newest_use,omitempty"`
}

type entry struct {
	path string
	size int64
	used time.Time
}

func (c *Cache) entries() ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(c.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			// A writer that died left it; old ones are garbage.
			if time.Since(info.ModTime()) > time.Hour {
				_ = os.Remove(p)
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".facts") {
			out = append(out, entry{p, info.Size(), info.ModTime()})
		}
		return nil
	})
	return out, err
}

// Status counts the entries and their size.
func (c *Cache) Status() (Stats, error) {
	es, err := c.entries()
	st := Stats{Dir: c.Dir, Entries: len(es), Max: c.max()}
	for _, e := range es {
		st.Bytes += e.size
		if st.Oldest.IsZero() || e.used.Before(st.Oldest) {
			st.Oldest = e.used
		}
		if e.used.After(st.Newest) {
			st.Newest = e.used
		}
	}
	return st, err
}

// Prune removes the least recently used entries until the rest fit in max
// bytes (0 removes everything), and returns how many it removed.
func (c *Cache) Prune(max int64) (int, error) {
	es, err := c.entries()
	if err != nil {
		return 0, fmt.Errorf("facts cache %s: %w", c.Dir, err)
	}
	var total int64
	for _, e := range es {
		total += e.size
	}
	if total <= max && max > 0 {
		return 0, nil
	}
	sort.Slice(es, func(i, j int) bool { return es[i].used.Before(es[j].used) })
	n := 0
	for _, e := range es {
		if total <= max && max > 0 {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
			n++
		}
	}
	return n, nil
}

// An entry is cacheMagic, the format version (uint32), the length (uint64)
// and the sha256 of the payload, then the payload: zstd of the facts JSON.
func encodeEntry(l *Layer) ([]byte, error) {
	var js bytes.Buffer
	if err := Write(&js, &Facts{FS: l.FS, Inventory: l.Inventory, Warnings: l.Warnings}); err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	payload := enc.EncodeAll(js.Bytes(), nil)
	_ = enc.Close()
	sum := sha256.Sum256(payload)
	out := make([]byte, 0, len(cacheMagic)+12+len(sum)+len(payload))
	out = append(out, cacheMagic...)
	out = binary.BigEndian.AppendUint32(out, Version)
	out = binary.BigEndian.AppendUint64(out, uint64(len(payload)))
	out = append(out, sum[:]...)
	return append(out, payload...), nil
}

func decodeEntry(data []byte) (*Layer, error) {
	head := len(cacheMagic) + 12 + sha256.Size
	if len(data) < head || string(data[:len(cacheMagic)]) != cacheMagic {
		return nil, errors.New("not a facts cache entry, or truncated")
	}
	rest := data[len(cacheMagic):]
	if v := binary.BigEndian.Uint32(rest); v != Version {
		return nil, fmt.Errorf("entry of format version %d, want %d", v, Version)
	}
	n := binary.BigEndian.Uint64(rest[4:])
	payload := data[head:]
	if uint64(len(payload)) != n {
		return nil, fmt.Errorf("truncated: %d payload bytes, header says %d", len(payload), n)
	}
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], rest[12:12+sha256.Size]) {
		return nil, errors.New("checksum mismatch")
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxSize))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	js, err := dec.DecodeAll(payload, nil)
	if err != nil {
		return nil, err
	}
	f, err := decodeAny(js)
	if err != nil {
		return nil, err
	}
	return &Layer{FS: f.FS, Inventory: f.Inventory, Warnings: f.Warnings}, nil
}

// decodeAny is Decode for documents written by Write, whatever their reader.
func decodeAny(js []byte) (*Facts, error) { return Read(io.NopCloser(bytes.NewReader(js))) }
