package analyzer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Bounds on Java archives, which need random access and so are read into memory.
const (
	// maxJar is the largest archive read; larger ones are skipped with a warning.
	maxJar = 256 << 20
	// maxNestedJar is the largest archive read from inside another.
	maxNestedJar = 64 << 20
	// maxJarDepth bounds nesting: an ear holding a war holding a jar is 3.
	maxJarDepth = 3
	// maxJarInflate bounds the bytes inflated from one top-level archive,
	// nested archives included (zip bombs).
	maxJarInflate = 1 << 30
	// maxJarMeta bounds one pom.properties, pom.xml or MANIFEST.MF.
	maxJarMeta = 1 << 20
	// maxJarEntries bounds the entries of one archive (its directory is held in memory).
	maxJarEntries = 200_000
)

// java catalogs Maven artifacts in .jar, .war and .ear archives, nested
// archives included: META-INF/maven/**/pom.properties (with the licenses of
// the pom.xml beside it), else the manifest's Implementation-Title and
// -Version or Bundle-SymbolicName and Bundle-Version.
type java struct{ langFound }

func (a *java) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool { return isJavaArchive(f.Path) }}
}

// isJavaArchive reports whether the name is that of a Java archive.
func isJavaArchive(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".war", ".ear", ".jpi", ".hpi":
		return true
	}
	return false
}

func (a *java) Analyze(f *imagefs.File, r io.Reader) error {
	data, err := readBounded(f, r, maxJar)
	if err != nil {
		return err
	}
	budget := int64(maxJarInflate)
	pkgs, problems := ParseJavaArchive(data, path.Base(f.Path), &budget)
	a.put(f, pkgs)
	if len(problems) > 0 {
		return fmt.Errorf("java archive: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (a *java) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.emit(fsys, inv)
	return nil
}

// ParseJavaArchive lists the Maven artifacts in a Java archive and in the
// archives nested in it. budget is the number of bytes that may still be
// inflated; it is shared with the nested archives. Problems (a corrupt or
// oversized nested archive, an exhausted budget) are returned as messages
// next to what could be read.
func ParseJavaArchive(data []byte, name string, budget *int64) ([]inventory.Package, []string) {
	return parseJavaArchive(data, name, 1, budget)
}

func parseJavaArchive(data []byte, name string, depth int, budget *int64) ([]inventory.Package, []string) {
	if n, ok := zipEntryCount(data); ok && n > maxJarEntries {
		return nil, []string{fmt.Sprintf("%s: %d entries, over the limit of %d; skipped", name, n, maxJarEntries)}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var problems []string
	props := map[string]map[string]string{} // META-INF/maven/g/a -> pom.properties
	pomLicenses := map[string][]string{}    // META-INF/maven/g/a -> licenses of pom.xml
	var manifest map[string]string
	var nested []*zip.File
	read := func(zf *zip.File, limit int64) ([]byte, bool) {
		b, err := readZipEntry(zf, limit, budget)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s!%s: %v", name, zf.Name, err))
			return nil, false
		}
		return b, true
	}
	for _, zf := range zr.File {
		n := zf.Name
		switch {
		case strings.HasPrefix(n, "META-INF/maven/") && strings.HasSuffix(n, "/pom.properties"):
			if b, ok := read(zf, maxJarMeta); ok {
				props[path.Dir(n)] = parseProperties(b)
			}
		case strings.HasPrefix(n, "META-INF/maven/") && strings.HasSuffix(n, "/pom.xml"):
			if b, ok := read(zf, maxJarMeta); ok {
				pomLicenses[path.Dir(n)] = parsePomLicenses(b)
			}
		case strings.EqualFold(n, "META-INF/MANIFEST.MF"):
			if b, ok := read(zf, maxJarMeta); ok {
				manifest = parseManifest(b)
			}
		case isJavaArchive(n) && !strings.HasSuffix(n, "/"):
			nested = append(nested, zf)
		}
	}
	pkgs := mavenFromPoms(props, pomLicenses, manifest)
	if len(pkgs) == 0 {
		if p, ok := mavenFromManifest(manifest); ok {
			pkgs = append(pkgs, p)
		}
	}
	for _, zf := range nested {
		inner := name + "!" + zf.Name
		if depth >= maxJarDepth {
			problems = append(problems, fmt.Sprintf("%s: nested deeper than %d archives; skipped", inner, maxJarDepth))
			continue
		}
		if zf.UncompressedSize64 > maxNestedJar {
			problems = append(problems, fmt.Sprintf("%s: %d bytes, over the %d-byte limit for a nested archive; skipped", inner, zf.UncompressedSize64, maxNestedJar))
			continue
		}
		b, ok := read(zf, maxNestedJar)
		if !ok {
			continue
		}
		p, pr := parseJavaArchive(b, inner, depth+1, budget)
		pkgs = append(pkgs, p...)
		problems = append(problems, pr...)
	}
	return pkgs, problems
}

// readZipEntry inflates one entry, at most limit bytes, charging the budget.
func readZipEntry(zf *zip.File, limit int64, budget *int64) ([]byte, error) {
	if *budget <= 0 {
		return nil, errors.New("the bytes one archive may inflate are used up; not read")
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	byBudget := *budget < limit
	limit = min(limit, *budget)
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	*budget -= int64(len(b))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		if byBudget {
			return nil, errors.New("the bytes one archive may inflate are used up; not read")
		}
		return nil, fmt.Errorf("inflates to over %d bytes; not read", limit)
	}
	return b, nil
}

// zipEntryCount reads the number of entries from the end of central
// directory record (or its zip64 form), before the directory is loaded.
func zipEntryCount(data []byte) (uint64, bool) {
	const eocdLen = 22
	if len(data) < eocdLen {
		return 0, false
	}
	from := max(0, len(data)-eocdLen-0xffff)
	i := bytes.LastIndex(data[from:], []byte("PK\x05\x06"))
	if i < 0 || from+i+eocdLen > len(data) {
		return 0, false
	}
	i += from
	n := uint64(binary.LittleEndian.Uint16(data[i+10:]))
	if n != 0xffff || i < 20 || !bytes.Equal(data[i-20:i-16], []byte("PK\x06\x07")) {
		return n, true
	}
	// zip64: the locator points at the zip64 end of central directory record.
	off := binary.LittleEndian.Uint64(data[i-12:])
	if off > uint64(len(data)) || uint64(len(data))-off < 56 || !bytes.Equal(data[off:off+4], []byte("PK\x06\x06")) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(data[off+32:]), true
}

// mavenFromPoms makes one package per pom.properties. When the archive
// holds a single artifact whose pom.xml names no license, the manifest's
// Bundle-License is used.
func mavenFromPoms(props map[string]map[string]string, lic map[string][]string, manifest map[string]string) []inventory.Package {
	dirs := make([]string, 0, len(props))
	for d := range props {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []inventory.Package
	for _, d := range dirs {
		p := props[d]
		g, a, v := p["groupId"], p["artifactId"], p["version"]
		if g == "" || a == "" || v == "" {
			continue
		}
		l := lic[d]
		if len(l) == 0 && len(props) == 1 && manifest["Bundle-License"] != "" {
			l = []string{manifest["Bundle-License"]}
		}
		out = append(out, langPackage(inventory.Maven, g+":"+a, v, purl(inventory.Maven, g, a, v), l))
	}
	return out
}

// mavenFromManifest names an archive without Maven metadata from its
// manifest: Implementation-Title and -Version, else the OSGi
// Bundle-SymbolicName (without directives) and Bundle-Version.
func mavenFromManifest(m map[string]string) (inventory.Package, bool) {
	name, version := m["Implementation-Title"], m["Implementation-Version"]
	if name == "" || version == "" {
		name, _, _ = strings.Cut(m["Bundle-SymbolicName"], ";")
		name, version = strings.TrimSpace(name), m["Bundle-Version"]
	}
	if name == "" || version == "" {
		return inventory.Package{}, false
	}
	var lic []string
	if l := m["Bundle-License"]; l != "" {
		lic = []string{l}
	}
	return langPackage(inventory.Maven, name, version, purl(inventory.Maven, "", name, version), lic), true
}

// parseProperties reads a Java properties file's "key=value" and "key: value" lines.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxJarMeta)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		out[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return out
}

// parseManifest reads the main section of a JAR manifest. Lines are wrapped
// at 72 bytes: a line starting with one space continues the previous one.
func parseManifest(b []byte) map[string]string {
	out := map[string]string{}
	var key string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxJarMeta)
scan:
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			break scan // end of the main section
		case line[0] == ' ':
			if key != "" {
				out[key] += line[1:]
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			key = strings.TrimSpace(k)
			out[key] = strings.TrimSpace(v)
		}
	}
	for k, v := range out {
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// parsePomLicenses returns the license names a pom.xml declares.
func parsePomLicenses(b []byte) []string {
	var pom struct {
		Licenses []struct {
			Name string `xml:"name"`
			URL  string `xml:"url"`
		} `xml:"licenses>license"`
	}
	if xml.Unmarshal(b, &pom) != nil {
		return nil
	}
	var out []string
	for _, l := range pom.Licenses {
		switch {
		case strings.TrimSpace(l.Name) != "":
			out = append(out, strings.TrimSpace(l.Name))
		case strings.TrimSpace(l.URL) != "":
			out = append(out, strings.TrimSpace(l.URL))
		}
	}
	return out
}
