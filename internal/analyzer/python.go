package analyzer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

const (
	// maxMetadataHeader bounds the header part of one METADATA or PKG-INFO
	// file; the description that follows it is never read.
	maxMetadataHeader = 1 << 20
	// maxMetadataLine bounds one header line (with its continuation lines).
	maxMetadataLine = 64 << 10
)

// python catalogs installed Python distributions from their core metadata:
// *.dist-info/METADATA (wheels, pip) and *.egg-info/PKG-INFO or a plain
// *.egg-info file (setuptools, distutils), under site-packages or
// dist-packages.
type python struct{ langFound }

func (a *python) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool { return isPythonMetadata(f.Path) }}
}

// isPythonMetadata reports whether p is the metadata file of an installed distribution.
func isPythonMetadata(p string) bool {
	if !strings.Contains(p, "/site-packages/") && !strings.Contains(p, "/dist-packages/") {
		return false
	}
	dir, base := path.Split(p)
	parent := path.Base(dir)
	switch {
	case base == "METADATA":
		return strings.HasSuffix(parent, ".dist-info")
	case base == "PKG-INFO":
		return strings.HasSuffix(parent, ".egg-info")
	case strings.HasSuffix(base, ".egg-info"):
		return parent == "site-packages" || parent == "dist-packages"
	}
	return false
}

func (a *python) Analyze(f *imagefs.File, r io.Reader) error {
	pkg, ok, err := ParsePythonMetadata(r)
	if err != nil {
		return err
	}
	var pkgs []inventory.Package
	if ok {
		pkgs = append(pkgs, pkg)
	}
	a.put(f, pkgs)
	return nil
}

func (a *python) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.emit(fsys, inv)
	return nil
}

// ParsePythonMetadata reads the header of a core metadata file (RFC 822
// style, https://packaging.python.org/specifications/core-metadata/) up to
// the first blank line, never more than maxMetadataHeader bytes. ok is false
// without Name or Version. Licenses are, in this order of preference: the
// License-Expression (PEP 639), else the License field when it is a short
// name, else the "License ::" classifiers, else the License field's text.
func ParsePythonMetadata(r io.Reader) (inventory.Package, bool, error) {
	h, err := readMetadataHeader(r)
	if err != nil {
		return inventory.Package{}, false, err
	}
	name, version := first(h["name"]), first(h["version"])
	if name == "" || version == "" {
		return inventory.Package{}, false, nil
	}
	var lic []string
	license := first(h["license"])
	if strings.EqualFold(license, "UNKNOWN") {
		license = ""
	}
	shortLicense := license != "" && len(license) <= 100 && !strings.Contains(license, "\n")
	var classifiers []string
	for _, c := range h["classifier"] {
		if strings.HasPrefix(c, "License ::") {
			classifiers = append(classifiers, c)
		}
	}
	switch {
	case first(h["license-expression"]) != "":
		lic = []string{first(h["license-expression"])}
	case shortLicense:
		lic = []string{license}
	case len(classifiers) > 0:
		lic = classifiers
	case license != "":
		lic = []string{license}
	}
	return langPackage(inventory.PyPI, name, version, purl(inventory.PyPI, "", pypiNormalize(name), version), lic), true, nil
}

// readMetadataHeader returns the header fields, keyed by lower-case name.
// Continuation lines (starting with white space) extend the previous field.
// It stops at the first blank line, at maxMetadataHeader bytes (what was
// read so far is kept: Name and Version come first), and keeps at most
// maxMetadataLine bytes of one line.
func readMetadataHeader(r io.Reader) (map[string][]string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxMetadataHeader), 64<<10)
	h := map[string][]string{}
	var key string
	for {
		line, err := readLine(br, maxMetadataLine)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading metadata: %w", err)
		}
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
			return h, nil // end of the header (or of the file); "        " is a continuation
		case line[0] == ' ' || line[0] == '\t':
			if vs := h[key]; len(vs) > 0 && len(vs[len(vs)-1]) < maxMetadataLine {
				vs[len(vs)-1] += "\n" + strings.TrimSpace(line)
			}
		default:
			if k, v, ok := strings.Cut(line, ":"); ok {
				key = strings.ToLower(strings.TrimSpace(k))
				h[key] = append(h[key], strings.TrimSpace(v))
			}
		}
		if err == io.EOF {
			return h, nil
		}
	}
}

// readLine reads one line without its newline, keeping at most limit bytes
// of it (the rest of a longer line is read and dropped).
func readLine(br *bufio.Reader, limit int) (string, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if room := limit - len(buf); room > 0 {
			buf = append(buf, frag[:min(len(frag), room)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(bytes.TrimSuffix(buf, []byte("\n"))), err
	}
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// pypiNormalize is the PEP 503 normal form of a project name, as purls use it.
func pypiNormalize(name string) string {
	return strings.ToLower(pypiSeparators.ReplaceAllString(name, "-"))
}
