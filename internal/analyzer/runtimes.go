package analyzer

import (
	"bufio"
	"bytes"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// maxReleaseFile bounds a JDK release file.
const maxReleaseFile = 64 << 10

// runtimes recognises language runtimes and servers that no package manager
// installed, from version strings in their binaries (streamed, never held
// whole), the JDK release file, the Python standard library's directory and
// the .NET shared framework's directory. Each becomes an inventory.Runtime
// (product named as endoflife.date does) and a Package of type "binary".
type runtimes struct {
	hits map[string]runtimeHit
}

// runtimeHit is a runtime version read from one version of one file.
type runtimeHit struct {
	product, version, how string
	layer                 int
}

// binaryRecognizer finds the version of one product in a binary's bytes.
type binaryRecognizer struct {
	product string
	// minor is the Python minor version the file name promises ("11"), if any.
	minor string
}

var (
	pythonBinName  = regexp.MustCompile(`^python3(?:\.(\d+))?$`)
	libpythonName  = regexp.MustCompile(`^libpython3\.(\d+)[a-z]*\.so(?:\.[0-9.]+)?$`)
	pythonStdlib   = regexp.MustCompile(`^/usr/local/lib/python(3\.\d+)/os\.py$`)
	dotnetShared   = regexp.MustCompile(`/shared/Microsoft\.NETCore\.App/(\d+\.\d+\.\d+[^/]*)/Microsoft\.NETCore\.App\.deps\.json$`)
	javaImplVendor = map[string]string{
		"Eclipse Adoptium":   "eclipse-temurin",
		"Eclipse Foundation": "eclipse-temurin",
		"AdoptOpenJDK":       "eclipse-temurin",
		"Oracle Corporation": "openjdk-builds-from-oracle",
		"Amazon.com Inc.":    "amazon-corretto",
		"Azul Systems, Inc.": "azul-zulu",
		"Red Hat, Inc.":      "red-hat-build-of-openjdk",
	}
)

// recognizerFor says which product a file's name suggests, if any.
func recognizerFor(p string) (binaryRecognizer, bool) {
	base := path.Base(p)
	switch {
	case base == "node" || base == "nodejs" || strings.HasPrefix(base, "libnode.so"):
		return binaryRecognizer{product: "nodejs"}, true
	case base == "nginx":
		return binaryRecognizer{product: "nginx"}, true
	case base == "postgres":
		return binaryRecognizer{product: "postgresql"}, true
	}
	if m := pythonBinName.FindStringSubmatch(base); m != nil {
		return binaryRecognizer{product: "python", minor: m[1]}, true
	}
	if m := libpythonName.FindStringSubmatch(base); m != nil {
		return binaryRecognizer{product: "python", minor: m[1]}, true
	}
	return binaryRecognizer{}, false
}

func (a *runtimes) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool {
		if _, ok := recognizerFor(f.Path); ok {
			return f.Size >= 64
		}
		return (path.Base(f.Path) == "release" && f.Size <= maxReleaseFile) ||
			pythonStdlib.MatchString(f.Path) || dotnetShared.MatchString(f.Path)
	}}
}

func (a *runtimes) Analyze(f *imagefs.File, r io.Reader) error {
	delete(a.hits, f.Path)
	if m := pythonStdlib.FindStringSubmatch(f.Path); m != nil {
		a.hits[f.Path] = runtimeHit{product: "python", version: m[1], how: "standard library directory", layer: f.Layer}
		return nil
	}
	if m := dotnetShared.FindStringSubmatch(f.Path); m != nil {
		a.hits[f.Path] = runtimeHit{product: "dotnet", version: m[1], how: "shared framework directory", layer: f.Layer}
		return nil
	}
	if rec, ok := recognizerFor(f.Path); ok {
		v, err := rec.scan(r)
		if err != nil {
			return err
		}
		if v != "" {
			a.hits[f.Path] = runtimeHit{product: rec.product, version: v, how: "version string", layer: f.Layer}
		}
		return nil
	}
	data, err := readBounded(f, r, maxReleaseFile)
	if err != nil {
		return err
	}
	if product, v, ok := ParseJDKRelease(data); ok {
		a.hits[f.Path] = runtimeHit{product: product, version: v, how: "JDK release file", layer: f.Layer}
	}
	return nil
}

// Finish reports the runtimes of files still in the final filesystem. A
// Python version read from the standard library's directory only counts
// when no binary gave the same minor version a full version.
func (a *runtimes) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	paths := make([]string, 0, len(a.hits))
	full := map[string]bool{}
	for p, h := range a.hits {
		if !fsys.IsCurrent(p, h.layer) {
			continue
		}
		paths = append(paths, p)
		if h.product == "python" && h.how == "version string" {
			full[majorMinor(h.version)] = true
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		h := a.hits[p]
		if h.product == "python" && h.how == "standard library directory" && full[h.version] {
			continue
		}
		if h.product != "openjdk" {
			inv.Runtimes = append(inv.Runtimes, inventory.Runtime{Product: h.product, Version: h.version, Evidence: p + " (" + h.how + ")", Path: p, Layer: h.layer})
		}
		inv.Packages = append(inv.Packages, inventory.Package{
			Name: h.product, Version: h.version, Type: typeBinary, Ecosystem: string(inventory.Generic),
			PURL: purl(inventory.Generic, "", h.product, h.version), Path: p, Layer: h.layer,
		})
	}
	return nil
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// ParseJDKRelease reads the release file at the root of a JDK or JRE. The
// product is the endoflife.date slug for its IMPLEMENTOR, or "openjdk" when
// the implementor has no lifecycle of its own there (a distribution's build).
func ParseJDKRelease(data []byte) (product, version string, ok bool) {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxReleaseFile)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			kv[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	version = kv["JAVA_VERSION"]
	if version == "" || !isVersionLike(version) {
		return "", "", false
	}
	product = javaImplVendor[kv["IMPLEMENTOR"]]
	if product == "" {
		product = "openjdk"
	}
	return product, version, true
}

func isVersionLike(v string) bool {
	if v == "" || v[0] < '0' || v[0] > '9' || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune(".-+_", c)) {
			return false
		}
	}
	return true
}

// scanOverlapRuntime is carried from one chunk to the next so that a version
// string split across chunks is still seen whole.
const scanOverlapRuntime = 256

// scan streams an ELF file and returns the product's version, or "".
func (rec binaryRecognizer) scan(r io.Reader) (string, error) {
	const chunk = 1 << 20
	bp := getScanBuf()
	defer putScanBuf(bp)
	buf := (*bp)[:0]
	fallback := ""
	for first := true; ; first = false {
		n, rerr := io.ReadFull(r, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+n]
		if first && !bytes.HasPrefix(buf, []byte("\x7fELF")) {
			return "", nil // a script or a wrapper: no version strings to trust
		}
		eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !eof {
			return "", rerr
		}
		v, best := rec.find(buf)
		if best {
			return v, nil
		}
		if fallback == "" {
			fallback = v
		}
		if eof {
			return fallback, nil
		}
		keep := min(len(buf), scanOverlapRuntime)
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
}

// find looks for the product's version in b. best is true when the match
// is the most specific kind, so that scanning can stop.
func (rec binaryRecognizer) find(b []byte) (v string, best bool) {
	switch rec.product {
	case "nodejs":
		if v := versionAfter(b, "node.js/v", 3, nil); v != "" {
			return v, true
		}
		return versionAfter(b, "/download/release/v", 3, nil), false
	case "nginx":
		v := versionAfter(b, "nginx/", 3, nil)
		return v, v != ""
	case "postgresql":
		v := versionAfter(b, "PostgreSQL ", 1, func(rest []byte) bool { return len(rest) > 0 && (rest[0] == ' ' || rest[0] == 0) })
		return v, v != ""
	case "python":
		return rec.findPython(b)
	}
	return "", false
}

// pyVersionFormat follows PY_VERSION in CPython's Py_GetVersion; the linker
// often puts the two strings side by side.
var pyVersionFormat = []byte("\x00%.80s (%.80s) %.80s")

// findPython looks for CPython's PY_VERSION string ("3.11.2", NUL-terminated,
// of the minor version the file name gives), preferring the one next to
// Py_GetVersion's format string.
func (rec binaryRecognizer) findPython(b []byte) (string, bool) {
	needle := "3."
	if rec.minor != "" {
		needle = "3." + rec.minor + "."
	}
	found := ""
	for from := 0; from < len(b); {
		i := bytes.Index(b[from:], []byte(needle))
		if i < 0 {
			break
		}
		i += from
		from = i + 1
		if i > 0 && (b[i-1] >= '0' && b[i-1] <= '9' || b[i-1] == '.') {
			continue
		}
		v, rest := scanVersion(b[i:], 3)
		if v == "" || len(rest) == 0 || rest[0] != 0 {
			continue
		}
		if bytes.HasPrefix(rest, pyVersionFormat) {
			return v, true
		}
		if found == "" {
			found = v
		}
	}
	return found, false
}

// versionAfter returns the first dotted version (at least minParts numbers)
// right after marker in b, with an optional check on what follows it.
func versionAfter(b []byte, marker string, minParts int, after func(rest []byte) bool) string {
	m := []byte(marker)
	for from := 0; from < len(b); {
		i := bytes.Index(b[from:], m)
		if i < 0 {
			return ""
		}
		from += i + len(m)
		v, rest := scanVersion(b[from:], minParts)
		if v != "" && (after == nil || after(rest)) {
			return v
		}
	}
	return ""
}

// scanVersion reads "N.N.N" (minParts to 4 numbers of up to 4 digits) with
// an optional pre-release suffix (a1, b2, rc1) and "+", and returns it with
// the bytes after it.
func scanVersion(b []byte, minParts int) (string, []byte) {
	i, parts := 0, 0
	for parts < 4 {
		j := i
		for j < len(b) && j-i < 4 && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == i {
			break
		}
		parts++
		i = j
		if i < len(b) && b[i] == '.' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	if parts < minParts || (i < len(b) && b[i] >= '0' && b[i] <= '9') {
		return "", nil
	}
	for _, pre := range []string{"a", "b", "rc"} {
		if bytes.HasPrefix(b[i:], []byte(pre)) {
			j := i + len(pre)
			for j < len(b) && j-i < 6 && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j > i+len(pre) {
				i = j
			}
			break
		}
	}
	if i < len(b) && b[i] == '+' {
		i++
	}
	return string(b[:i]), b[i:]
}
