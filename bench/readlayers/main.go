// Command readlayers is the floor that `shipshape check` is benchmarked
// against: it opens a docker-archive (a `docker save` tarball), and reads every
// layer exactly once, decompressing it (gzip or zstd, detected from magic
// bytes; plain tar otherwise) and walking it with archive/tar, reading every
// entry's content to io.Discard. It keeps nothing, analyzes nothing, and by
// default does not hash anything.
//
//	go build -o /tmp/readlayers ./bench/readlayers
//	/tmp/readlayers [-tag TAG] [-sha256] [-json] docker-archive:FILE.tar
//
// With -sha256 it also computes each layer's diff ID (sha256 of the
// uncompressed stream) and checks it against the config, which is the least
// any tool that verifies the image has to do on top of reading it.
//
// It prints one line: layers, entries, bytes read from the archive, bytes of
// uncompressed tar, and the elapsed time (or a JSON object with -json).
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

type stats struct {
	File         string  `json:"file"`
	Layers       int     `json:"layers"`
	Entries      int     `json:"entries"`
	Regular      int     `json:"regular_files"`
	RawBytes     int64   `json:"raw_bytes"`
	TarBytes     int64   `json:"tar_bytes"`
	ContentBytes int64   `json:"content_bytes"`
	Compression  string  `json:"compression"`
	Verified     bool    `json:"diff_ids_verified"`
	Seconds      float64 `json:"seconds"`
}

func main() {
	tag := flag.String("tag", "", "image to read when the archive holds several (a RepoTags entry)")
	verify := flag.Bool("sha256", false, "also compute and check every layer's diff ID (sha256 of the uncompressed tar)")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: readlayers [-tag TAG] [-sha256] [-json] [docker-archive:]FILE.tar\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	file := strings.TrimPrefix(flag.Arg(0), "docker-archive:")
	st, err := run(file, *tag, *verify)
	if err != nil {
		fmt.Fprintf(os.Stderr, "readlayers: %v\n", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
		return
	}
	fmt.Printf("file=%s layers=%d entries=%d regular=%d raw_bytes=%d tar_bytes=%d content_bytes=%d compression=%s verified=%t seconds=%.3f\n",
		st.File, st.Layers, st.Entries, st.Regular, st.RawBytes, st.TarBytes, st.ContentBytes, st.Compression, st.Verified, st.Seconds)
}

func run(file, tag string, verify bool) (*stats, error) {
	start := time.Now()
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("%s: not a docker-archive: %w", file, err)
	}
	var desc *tarball.Descriptor
	switch {
	case tag != "":
		for i := range m {
			for _, t := range m[i].RepoTags {
				if t == tag {
					desc = &m[i]
				}
			}
		}
		if desc == nil {
			return nil, fmt.Errorf("%s: no image tagged %s", file, tag)
		}
	case len(m) == 1:
		desc = &m[0]
	default:
		return nil, fmt.Errorf("%s holds %d images; pick one with -tag", file, len(m))
	}

	var diffIDs []string
	if verify {
		cfg, err := readMember(file, desc.Config)
		if err != nil {
			return nil, err
		}
		var c struct {
			RootFS struct {
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := json.Unmarshal(cfg, &c); err != nil {
			return nil, fmt.Errorf("parsing config %s: %w", desc.Config, err)
		}
		if len(c.RootFS.DiffIDs) != len(desc.Layers) {
			return nil, fmt.Errorf("config lists %d diff IDs, manifest %d layers", len(c.RootFS.DiffIDs), len(desc.Layers))
		}
		diffIDs = c.RootFS.DiffIDs
	}

	st := &stats{File: file, Layers: len(desc.Layers), Verified: verify}
	comps := map[string]bool{}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for i, name := range desc.Layers {
		want := ""
		if verify {
			want = diffIDs[i]
		}
		comp, err := readLayer(f, name, want, st)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, name, err)
		}
		comps[comp] = true
	}
	for _, c := range []string{"none", "gzip", "zstd"} {
		if comps[c] {
			if st.Compression != "" {
				st.Compression += "+"
			}
			st.Compression += c
		}
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// member positions f at the start of the named member of the outer tar and
// returns a reader of its content. Skipping over other members seeks (os.File
// is an io.Seeker), so locating a layer costs only its header reads.
func member(f *os.File, name string) (io.Reader, int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	name = path.Clean(name)
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, 0, fmt.Errorf("%s not found in the archive", name)
		}
		if err != nil {
			return nil, 0, err
		}
		if path.Clean(h.Name) != name {
			continue
		}
		if h.Typeflag == tar.TypeSymlink {
			// Old `docker save` links identical layers to each other.
			name = path.Join(path.Dir(name), h.Linkname)
			return member(f, name)
		}
		return tr, h.Size, nil
	}
}

func readMember(file, name string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := member(f, name)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, 8<<20))
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func readLayer(f *os.File, name, wantDiffID string, st *stats) (string, error) {
	r, _, err := member(f, name)
	if err != nil {
		return "", err
	}
	raw := &counter{r: r}
	br := bufio.NewReaderSize(raw, 64<<10)
	magic, _ := br.Peek(4)
	var plain io.Reader
	comp := "none"
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		comp = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", err
		}
		defer zr.Close()
		plain = zr
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		comp = "zstd"
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return "", err
		}
		defer zr.Close()
		plain = zr
	default:
		plain = br
	}
	var h hash.Hash
	if wantDiffID != "" {
		h = sha256.New()
		plain = io.TeeReader(plain, h)
	}
	un := &counter{r: plain}
	tr := tar.NewReader(un)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading tar: %w", err)
		}
		st.Entries++
		if hdr.Typeflag == tar.TypeReg {
			st.Regular++
		}
		n, err := io.Copy(io.Discard, tr)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", hdr.Name, err)
		}
		st.ContentBytes += n
	}
	// Drain the tar padding and anything after it, as a verifier must.
	if _, err := io.Copy(io.Discard, un); err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return "", err
	}
	st.RawBytes += raw.n
	st.TarBytes += un.n
	if h != nil {
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != wantDiffID {
			return "", fmt.Errorf("diff ID mismatch: config %s, content %s", wantDiffID, got)
		}
	}
	return comp, nil
}
