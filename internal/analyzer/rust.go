package analyzer

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// maxRustDeps bounds the decompressed cargo-auditable JSON of one binary.
const maxRustDeps = 8 << 20

// rustDepsPrefix is how cargo-auditable's JSON starts (serde, compact).
var rustDepsPrefix = []byte(`{"packages":[`)

// rustDeps is the dependency list cargo-auditable embeds in the .dep-v0
// section of a Rust binary: zlib-compressed JSON
// (https://github.com/rust-secure-code/cargo-auditable, format of auditable-serde).
type rustDeps struct {
	Packages []rustPackage `json:"packages"`
}

// rustPackage is one crate of the list.
type rustPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Source is "crates.io", "local", "git", "registry" or "local".
	Source string `json:"source"`
	// Kind is "build" for build-time-only crates (build scripts, proc
	// macros); absent means "runtime".
	Kind string `json:"kind"`
	Root bool   `json:"root"`
}

// rustProbe finds the start of a zlib stream that inflates to the
// cargo-auditable JSON, without knowing where the .dep-v0 section is: the
// section table sits at the end of an ELF file, after the data it describes,
// so a stream has to recognise the data itself. Candidates are the two zlib
// header bytes (CMF 0x78, a valid FLG); each is confirmed by inflating its
// first bytes. One inflater is reused for every candidate.
type rustProbe struct {
	fr  io.ReadCloser
	out [16]byte
}

// find returns the offset in buf of the first confirmed stream starting
// before limit, or -1. It reads at most scanOverlap bytes past a candidate.
func (p *rustProbe) find(buf []byte, limit int) int {
	for from := 0; from < limit; {
		i := bytes.IndexByte(buf[from:limit], 0x78)
		if i < 0 {
			return -1
		}
		i += from
		if p.confirm(buf[i:min(len(buf), i+scanOverlap)]) {
			return i
		}
		from = i + 1
	}
	return -1
}

// confirm reports whether b starts a zlib stream whose first inflated bytes
// are rustDepsPrefix.
func (p *rustProbe) confirm(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	cmf, flg := b[0], b[1]
	if (uint16(cmf)<<8|uint16(flg))%31 != 0 || flg&0x20 != 0 { // check bits; no preset dictionary
		return false
	}
	if btype := (b[2] >> 1) & 3; btype == 3 { // reserved block type
		return false
	}
	src := bytes.NewReader(b[2:])
	if p.fr == nil {
		p.fr = flate.NewReader(src)
	} else if err := p.fr.(flate.Resetter).Reset(src, nil); err != nil {
		return false
	}
	want := p.out[:len(rustDepsPrefix)]
	n, _ := io.ReadFull(p.fr, want)
	return n == len(want) && bytes.Equal(want, rustDepsPrefix)
}

// readRustDeps inflates and decodes the dependency list at the start of r.
func readRustDeps(r io.Reader) (*rustDeps, error) {
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("zlib header: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxRustDeps+1))
	if err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	if len(data) > maxRustDeps {
		return nil, fmt.Errorf("over %d bytes once inflated", maxRustDeps)
	}
	var d rustDeps
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	return &d, nil
}

// rustPackages turns the crates compiled into a binary into packages of the
// crates.io ecosystem. Build-time-only crates (kind "build": build scripts
// and proc macros) are left out: none of their code is in the binary.
func rustPackages(d *rustDeps) []inventory.Package {
	if d == nil {
		return nil
	}
	var out []inventory.Package
	for _, c := range d.Packages {
		if c.Name == "" || c.Kind == "build" {
			continue
		}
		out = append(out, langPackage(inventory.CratesIO, c.Name, c.Version, purl(inventory.CratesIO, "", c.Name, c.Version), nil))
	}
	return out
}
