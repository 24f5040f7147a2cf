package analyzer

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// maxCopyright bounds how much of one copyright file is read; the few larger
// ones (full license texts of big source packages) are cut there.
const maxCopyright = 4 << 20

// copyrightFile is what one version of a copyright file declares.
type copyrightFile struct {
	layer    int
	licenses []string
}

// dpkgCopyright reads /usr/share/doc/<package>/copyright, the licenses of
// Debian packages. It keeps only the license names it parsed, never the files.
// The licenses are attached to the packages by attachLicenses, after every
// analyzer has finished.
type dpkgCopyright struct {
	files map[string]copyrightFile
}

func (a *dpkgCopyright) Want() imagefs.Want {
	return imagefs.Want{Globs: []string{"/usr/share/doc/*/copyright"}}
}

func (a *dpkgCopyright) Analyze(f *imagefs.File, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxCopyright))
	if err != nil {
		return err
	}
	if a.files == nil {
		a.files = map[string]copyrightFile{}
	}
	a.files[f.Path] = copyrightFile{layer: f.Layer, licenses: ParseDebianCopyright(data)}
	return nil
}

// Finish does nothing: attachLicenses needs the packages of every analyzer.
func (a *dpkgCopyright) Finish(*imagefs.FS, *inventory.Inventory) error { return nil }

// lookup returns the declared licenses of a Debian package and the path of
// its copyright file in the final filesystem (after symlinks, so that
// packages whose doc directory links to another package's are covered).
func (a *dpkgCopyright) lookup(fsys *imagefs.FS, pkg string) ([]string, string, bool) {
	n, rp, err := fsys.Stat("/usr/share/doc/" + pkg + "/copyright")
	if err != nil || n.Type != imagefs.TypeRegular {
		return nil, "", false
	}
	got, ok := a.files[rp]
	if !ok || got.layer != n.Layer {
		return nil, "", false
	}
	return got.licenses, rp, true
}

// ParseDebianCopyright returns the licenses a Debian copyright file declares,
// as written (Debian short names such as "GPL-2+" or "AGPL-3+ with font
// exception"), without duplicates, in order of first appearance.
//
// Machine-readable files (DEP-5, https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/)
// give the first line of the License field of the header and of every Files
// paragraph; the standalone License paragraphs, which hold license texts,
// count only when no Files paragraph names a license. Free-form files give
// the licenses they point at in /usr/share/common-licenses, with "+" when the
// notice before the reference grants "any later version".
func ParseDebianCopyright(data []byte) []string {
	if isDEP5(data) {
		return parseDEP5(data)
	}
	return parseFreeForm(data)
}

func isDEP5(data []byte) bool {
	for _, line := range bytes.SplitN(data, []byte("\n"), 8) {
		l := strings.ToLower(strings.TrimSpace(string(line)))
		if l == "" {
			continue
		}
		return strings.HasPrefix(l, "format:") || strings.HasPrefix(l, "format-specification:")
	}
	return false
}

type orderedSet struct {
	list []string
	seen map[string]bool
}

func (s *orderedSet) add(v string) {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" || s.seen[v] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[v] = true
	s.list = append(s.list, v)
}

func parseDEP5(data []byte) []string {
	var files, standalone orderedSet
	first := true
	para := map[string]string{}
	flush := func() {
		if len(para) == 0 {
			return
		}
		lic, hasLicense := para["license"]
		_, hasFiles := para["files"]
		_, isHeader := para["format"]
		if _, ok := para["format-specification"]; ok {
			isHeader = true
		}
		switch {
		case !hasLicense:
		case hasFiles || (first && isHeader):
			files.add(lic)
		default:
			standalone.add(lic)
		}
		first = false
		para = map[string]string{}
	}
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue // continuation line (license text) or comment
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		para[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	flush()
	if len(files.list) > 0 {
		return files.list
	}
	return standalone.list
}

var (
	commonLicenseRef = regexp.MustCompile(`/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9.+_-]*[A-Za-z0-9+])`)
	laterVersion     = regexp.MustCompile(`(?i)(any\s+later\s+version|or\s+later|or\s*\(at\s+your\s+option\)\s+any\s+later)`)
	versionWord      = regexp.MustCompile(`(?i)version\s+(\d(?:\.\d)?)`)
)

// commonLicenses maps the files of /usr/share/common-licenses (base-files in
// bookworm) to Debian short names; "" marks the unversioned links (GPL is
// GPL-3, but a notice pointing at it may grant another version).
var commonLicenses = map[string]string{
	"Apache-2.0": "Apache-2.0", "Artistic": "Artistic", "BSD": "BSD-3-Clause", "CC0-1.0": "CC0-1.0",
	"GFDL-1.2": "GFDL-1.2", "GFDL-1.3": "GFDL-1.3", "GPL-1": "GPL-1", "GPL-2": "GPL-2", "GPL-3": "GPL-3",
	"LGPL-2": "LGPL-2", "LGPL-2.1": "LGPL-2.1", "LGPL-3": "LGPL-3", "MPL-1.1": "MPL-1.1", "MPL-2.0": "MPL-2.0",
	"GPL": "", "LGPL": "", "GFDL": "",
}

func parseFreeForm(data []byte) []string {
	var out orderedSet
	text := string(data)
	prev := 0
	for _, m := range commonLicenseRef.FindAllStringSubmatchIndex(text, -1) {
		name := text[m[2]:m[3]]
		window := text[prev:m[1]]
		prev = m[1]
		short, known := commonLicenses[name]
		if !known {
			out.add(name) // stays unknown after normalisation unless it is an SPDX id
			continue
		}
		gnu := strings.HasPrefix(name, "GPL") || strings.HasPrefix(name, "LGPL") || strings.HasPrefix(name, "GFDL")
		if short == "" {
			v := versionWord.FindStringSubmatch(window)
			if v == nil {
				continue // which version is not said: unknown
			}
			short = name + "-" + v[1]
		}
		if gnu && laterVersion.MatchString(window) {
			short += "+"
		}
		out.add(short)
	}
	return out.list
}
