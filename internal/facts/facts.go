// Package facts holds what one reading of an image yields: its identity, its
// config, the final filesystem tree (metadata only), the inventory, the
// analyzers' warnings, and the supply-chain and probe evidence. Facts are
// serialisable and versioned, so an image read once can be judged again,
// later and elsewhere (a CI step, the service), without reading it again.
package facts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// Schema names the facts format in every facts document.
const Schema = "https://shipshape.dev/schemas/facts/v1"

// Version is the facts format's version. It changes whenever a field's
// meaning changes; a document of another version is refused (a newer one) or
// re-read from the image (an older one, in the cache).
const Version = 1

// MaxSize bounds a facts document read from a file or a request: facts of a
// large image are a few tens of MiB.
const MaxSize = 512 << 20

// Image identifies the image the facts are about and how it was read.
type Image struct {
	// Input is what the user typed.
	Input string `json:"input"`
	// Kind is the source kind: registry, docker-archive, oci, docker-daemon.
	Kind string `json:"kind"`
	// Reference is the image's name as it would be pulled, empty when the source gives none.
	Reference string `json:"reference,omitempty"`
	// Repository is the reference without tag or digest.
	Repository string `json:"repository,omitempty"`
	// Tag is the reference's tag, empty when none.
	Tag string `json:"tag,omitempty"`
	// PinnedDigest is the digest the reference pinned, empty when none.
	PinnedDigest string `json:"pinned_digest,omitempty"`
	// Digest is the manifest digest of the image that was read; empty for
	// archives, whose registry digest is only known once pushed.
	Digest string `json:"digest,omitempty"`
	// ImageID is the digest of the image's config.
	ImageID string `json:"image_id"`
	// IndexDigest is the digest of the index the image was picked from, if any.
	IndexDigest string `json:"index_digest,omitempty"`
	// RepoDigests are the engine's repo digests (docker-daemon only).
	RepoDigests []string `json:"repo_digests,omitempty"`
	// Platforms lists the platforms of the index; empty for a single-manifest image.
	Platforms []v1.Platform `json:"platforms,omitempty"`
	// Platform is the platform of the image that was read.
	Platform v1.Platform `json:"platform"`
	// Size is the sum of the layers' sizes as the manifest gives them.
	Size int64 `json:"size"`
}

// Facts is everything Judge needs about one image.
type Facts struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`
	// Analyzers is the version of the analyzers that produced FS and Inventory.
	Analyzers string `json:"analyzers"`
	// Tool is the shipshape version that observed the image.
	Tool       string    `json:"tool"`
	ObservedAt time.Time `json:"observed_at"`
	// Cached says the layer facts came from the cache (not serialised).
	Cached bool `json:"-"`
	// ObserveSeconds is how long the observation took.
	ObserveSeconds float64 `json:"observe_seconds"`

	Image     Image                `json:"image"`
	Config    *v1.ConfigFile       `json:"config"`
	FS        *imagefs.FS          `json:"filesystem"`
	Inventory *inventory.Inventory `json:"-"`
	// Warnings are the analyzers' warnings ("layer 2: /x: ..."), in order.
	Warnings []string `json:"warnings,omitempty"`
	// Supply is the supply-chain evidence; nil when it was not gathered.
	Supply *supplychain.Evidence `json:"supply,omitempty"`
	// Probe is what running the image showed; nil when it did not run.
	Probe *probe.Observations `json:"probe,omitempty"`
}

// Layer is the part of the facts that comes from reading the layers: what
// the cache keeps, keyed by the image's content.
type Layer struct {
	FS        *imagefs.FS
	Inventory *inventory.Inventory
	Warnings  []string
}

// plainFacts is Facts without its methods, for embedding in wire.
type plainFacts Facts

// wire is the serialised form: the inventory with the parts reports hide
// (executables, file owners, account files with masked password hashes).
type wire struct {
	plainFacts
	Inventory *inventory.Inventory `json:"inventory"`
	Binaries  []*inventory.Binary  `json:"executables,omitempty"`
	Owned     map[string]string    `json:"owned_files,omitempty"`
	Accounts  *accountSecrets      `json:"account_files,omitempty"`
}

// accountSecrets keeps what checks need of password fields, never a hash:
// whether it is empty, locked, or which scheme set it.
type accountSecrets struct {
	Passwords map[string]string `json:"passwd_fields,omitempty"`
	Shadow    []shadowEntry     `json:"shadow,omitempty"`
}

type shadowEntry struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
	Line int    `json:"line"`
}

// MaskHash hides a password hash but keeps what the checks decide on: an
// empty field, "x", the lock prefixes "!" and "*", and the "$id$" scheme.
func MaskHash(h string) string {
	if h == "" || h == "x" {
		return h
	}
	lock := ""
	for strings.HasPrefix(h, "!") || strings.HasPrefix(h, "*") {
		lock += h[:1]
		h = h[1:]
	}
	if h == "" {
		return lock
	}
	if strings.HasPrefix(h, "$") {
		if i := strings.Index(h[1:], "$"); i >= 0 {
			return lock + h[:i+2] + "masked"
		}
	}
	return lock + "masked"
}

// MarshalJSON writes the facts with the inventory's hidden parts.
func (f *Facts) MarshalJSON() ([]byte, error) {
	w := wire{plainFacts: plainFacts(*f), Inventory: f.Inventory}
	w.Schema, w.Version = Schema, Version
	if inv := f.Inventory; inv != nil {
		for _, p := range sortedKeys(inv.Binaries) {
			w.Binaries = append(w.Binaries, inv.Binaries[p])
		}
		w.Owned = inv.Owned
		acc := &accountSecrets{Passwords: map[string]string{}}
		for _, u := range inv.Accounts.Users {
			acc.Passwords[fmt.Sprintf("%d", u.Line)] = MaskHash(u.Password)
		}
		for _, s := range inv.Accounts.Shadow {
			acc.Shadow = append(acc.Shadow, shadowEntry{Name: s.Name, Hash: MaskHash(s.Hash), Line: s.Line})
		}
		w.Accounts = acc
	}
	return json.Marshal(w)
}

// ErrVersion says a facts document is of another format version.
var ErrVersion = errors.New("facts of another format version")

// Read decodes a facts document, bounded by MaxSize. A document of another
// format version fails with an error wrapping ErrVersion; a malformed one
// names the field that broke.
func Read(r io.Reader) (*Facts, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("facts document is larger than %d MiB", MaxSize>>20)
	}
	return Decode(data)
}

// Decode decodes a facts document held in memory.
func Decode(data []byte) (*Facts, error) {
	var head struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a shipshape facts document: %w", err)
	}
	if head.Schema != Schema {
		return nil, fmt.Errorf("not a shipshape facts document (schema %q, want %q)", head.Schema, Schema)
	}
	if head.Version != Version {
		newer := ""
		if head.Version > Version {
			newer = ": it was written by a newer shipshape; upgrade, or observe the image again with this one"
		}
		return nil, fmt.Errorf("%w: version %d, this shipshape reads version %d%s", ErrVersion, head.Version, Version, newer)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	f := Facts(w.plainFacts)
	if f.FS == nil {
		return nil, errors.New("reading facts: no filesystem")
	}
	if w.Inventory == nil {
		return nil, errors.New("reading facts: no inventory")
	}
	inv := w.Inventory
	inv.Binaries = map[string]*inventory.Binary{}
	for _, b := range w.Binaries {
		if b != nil {
			inv.Binaries[b.Path] = b
		}
	}
	inv.Owned = w.Owned
	if inv.Owned == nil {
		inv.Owned = map[string]string{}
	}
	if acc := w.Accounts; acc != nil {
		for i := range inv.Accounts.Users {
			u := &inv.Accounts.Users[i]
			u.Password = acc.Passwords[fmt.Sprintf("%d", u.Line)]
		}
		for _, s := range acc.Shadow {
			inv.Accounts.Shadow = append(inv.Accounts.Shadow, inventory.Shadow{Name: s.Name, Hash: s.Hash, Line: s.Line})
		}
	}
	f.Inventory = inv
	return &f, nil
}

// Write encodes f to w.
func Write(w io.Writer, f *Facts) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// Describe copies what identifies an opened image.
func Describe(img *source.Image) Image {
	return Image{
		Input: img.Input, Kind: string(img.Kind), Reference: img.Reference, Repository: img.Repository, Tag: img.Tag,
		PinnedDigest: img.PinnedDigest, Digest: img.Digest, ImageID: img.ImageID, IndexDigest: img.IndexDigest,
		RepoDigests: img.RepoDigests, Platforms: img.Platforms, Platform: img.Platform, Size: img.Size,
	}
}
