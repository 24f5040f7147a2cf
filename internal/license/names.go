package license

import (
	"regexp"
	"strings"
)

// perlTerms are the terms Perl itself is distributed under ("same terms as Perl").
const perlTerms = "Artistic-1.0-Perl OR GPL-1.0-or-later"

// aliases maps free-form names (in nameKey form) that are not the SPDX full
// names to SPDX expressions. Only names that designate exactly one license are
// here: "BSD", "GPL" or "Apache Software License" without a version are
// ambiguous and stay unknown.
var aliases = map[string]string{
	"expat":                                "MIT",
	"expat license":                        "MIT",
	"mit/expat":                            "MIT",
	"bsd 2-clause":                         "BSD-2-Clause",
	"bsd-2":                                "BSD-2-Clause",
	"2-clause bsd":                         "BSD-2-Clause",
	"2-clause bsd license":                 "BSD-2-Clause",
	"bsd 2-clause license":                 "BSD-2-Clause",
	"bsd-2-clause license":                 "BSD-2-Clause",
	"simplified bsd":                       "BSD-2-Clause",
	"simplified bsd license":               "BSD-2-Clause",
	"bsd 3-clause":                         "BSD-3-Clause",
	"bsd-3":                                "BSD-3-Clause",
	"3-clause bsd":                         "BSD-3-Clause",
	"3-clause bsd license":                 "BSD-3-Clause",
	"bsd 3-clause license":                 "BSD-3-Clause",
	"bsd-3-clause license":                 "BSD-3-Clause",
	"new bsd":                              "BSD-3-Clause",
	"new bsd license":                      "BSD-3-Clause",
	"modified bsd":                         "BSD-3-Clause",
	"modified bsd license":                 "BSD-3-Clause",
	"revised bsd":                          "BSD-3-Clause",
	"revised bsd license":                  "BSD-3-Clause",
	"eclipse distribution license - v 1.0": "BSD-3-Clause",
	"bsd 4-clause":                         "BSD-4-Clause",
	"bsd-4":                                "BSD-4-Clause",
	"4-clause bsd":                         "BSD-4-Clause",
	"original bsd":                         "BSD-4-Clause",
	"original bsd license":                 "BSD-4-Clause",
	"bsd 4-clause license":                 "BSD-4-Clause",
	"iscl":                                 "ISC",
	"isc license":                          "ISC",
	"zlib license":                         "Zlib",
	"zlib/libpng":                          "Zlib",
	"zlib/libpng license":                  "Zlib",
	"python software foundation license":   "PSF-2.0",
	"python software foundation license version 2": "PSF-2.0",
	"psf":                          "PSF-2.0",
	"psfl":                         "PSF-2.0",
	"psf license":                  "PSF-2.0",
	"unlicense":                    "Unlicense",
	"unlicense license":            "Unlicense",
	"cc0":                          "CC0-1.0",
	"cc0 1.0":                      "CC0-1.0",
	"cc0 1.0 universal":            "CC0-1.0",
	"cc0-1.0 universal":            "CC0-1.0",
	"boost":                        "BSL-1.0",
	"boost software license":       "BSL-1.0",
	"boost software license 1.0":   "BSL-1.0",
	"universal permissive license": "UPL-1.0",
	"w3c license":                  "W3C",
	"perl":                         perlTerms,
	"perl 5":                       perlTerms,
	"perl_5":                       perlTerms,
	"same as perl":                 perlTerms,
	"same terms as perl itself":    perlTerms,
	"same terms as perl":           perlTerms,
	// Debian: /usr/share/common-licenses/Artistic is Perl's Artistic License.
	"artistic": "Artistic-1.0-Perl",
}

// exceptionAliases maps exception names to the only SPDX exception they can mean.
var exceptionAliases = map[string]string{
	"classpath exception": "Classpath-exception-2.0",
	"classpath-exception": "Classpath-exception-2.0",
	"llvm exception":      "LLVM-exception",
}

var (
	// "GPLv2+", "LGPL-2.1", "GPL 3 or later", "AGPLv3", "gpl-2.0-only".
	gnuShort = regexp.MustCompile(`^(?:gnu )?(a|l)?gpl(?:[ -]?v| version |[ -])?(\d(?:\.\d)?)(?:\.0)?( ?\+| or later| or-later|-or-later| or newer| and later| or any later version| or \(at your option\) any later version|-only| only)?$`)
	// "GNU General Public License v2 or later", "GNU Lesser General Public License, version 2.1".
	gnuLong = regexp.MustCompile(`^(?:gnu )?(?:(affero|lesser|library) )?general public license(?: v| version | - v| -v|-| )?(\d(?:\.\d)?)(?:\.0)?( ?\+| or later| or-later| or newer| and later| or any later version| or \(at your option\) any later version| only)?$`)
	// "Apache License, Version 2.0", "Apache 2", "apache-2.0 license".
	apacheRe = regexp.MustCompile(`^apache(?: software)?(?: license)?(?: v| version |-| )?(2|2\.0|1\.1|1\.0)(?: license)?$`)
	// "MPL 2.0", "Mozilla Public License Version 1.1", "EPL-1.0", "Eclipse Public License - v 2.0", "CDDL 1.0".
	familyRe = regexp.MustCompile(`^(mozilla public license|mpl|eclipse public license|epl|common development and distribution license|cddl|artistic license|artistic)(?: - v |-v|-| v| version | )?(\d(?:\.\d)?)$`)
	// Debian short names with a version: "GFDL-NIV-1.2+", "CC-BY-SA-3", "Apache-2", "MPL-1.1+".
	debianShort = regexp.MustCompile(`^([a-z][a-z0-9-]*?)-(\d+(?:\.\d+)*[a-z]?)(\+)?$`)
	// LicenseRef-x and DocumentRef-y:LicenseRef-x are valid SPDX expressions.
	licenseRef = regexp.MustCompile(`^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$`)
)

var families = map[string]string{
	"mozilla public license": "MPL",
	"mpl":                    "MPL",
	"eclipse public license": "EPL",
	"epl":                    "EPL",
	"common development and distribution license": "CDDL",
	"cddl":             "CDDL",
	"artistic license": "Artistic",
	"artistic":         "Artistic",
}

// resolveTerm maps one term (no operators) to an SPDX identifier or, for a
// few names, a small SPDX expression.
func resolveTerm(s string) (string, bool) {
	s = strings.Trim(strings.TrimSpace(s), "\"'`;.")
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 256 {
		return "", false
	}
	// Python trove classifiers: "License :: OSI Approved :: MIT License".
	if strings.HasPrefix(s, "License ::") {
		parts := strings.Split(s, "::")
		last := strings.TrimSpace(parts[len(parts)-1])
		if len(parts) < 2 || last == "OSI Approved" || last == "License" {
			return "", false
		}
		s = last
	}
	if id, ok := resolveOne(s); ok {
		return id, true
	}
	// A trailing parenthetical: "ISC License (ISCL)", "GNU General Public License v2 (GPLv2)".
	if i := strings.LastIndex(s, "("); i > 0 && strings.HasSuffix(s, ")") {
		inner := strings.TrimSpace(s[i+1 : len(s)-1])
		outer := strings.TrimSpace(s[:i])
		a, okA := resolveOne(inner)
		b, okB := resolveOne(outer)
		switch {
		case okA && okB:
			if a == b {
				return a, true
			}
			return "", false // the two disagree: do not pick one
		case okA:
			return a, true
		case okB:
			return b, true
		}
	}
	return "", false
}

// resolveOne maps one name without a trailing parenthetical.
func resolveOne(s string) (string, bool) {
	l := spdxList()
	k := strings.ToLower(s)
	if in, ok := l.byID[k]; ok {
		return canonicalID(in.ID), true
	}
	if strings.HasSuffix(k, "+") {
		if in, ok := l.byID[strings.TrimSuffix(k, "+")]; ok {
			return orLater(in.ID), true
		}
	}
	if licenseRef.MatchString(s) {
		return s, true
	}
	key := nameKey(k)
	for _, n := range []string{k, key} {
		if id, ok := l.byName[n]; ok {
			return canonicalID(id), true
		}
	}
	if id, ok := aliases[key]; ok {
		return id, true
	}
	if m := gnuShort.FindStringSubmatch(key); m != nil {
		return gnuID(m[1], m[2], m[3])
	}
	if m := gnuLong.FindStringSubmatch(key); m != nil {
		fam := ""
		switch m[1] {
		case "affero":
			fam = "a"
		case "lesser", "library":
			fam = "l"
		}
		return gnuID(fam, m[2], m[3])
	}
	if m := apacheRe.FindStringSubmatch(key); m != nil {
		return versioned("Apache", m[1])
	}
	if m := familyRe.FindStringSubmatch(key); m != nil {
		return versioned(families[m[1]], m[2])
	}
	if m := debianShort.FindStringSubmatch(key); m != nil {
		return debianID(m[1], m[2], m[3] == "+")
	}
	return "", false
}

// nameKey normalises a lower-case free-form name: British spelling, quotes,
// commas and a leading "the".
func nameKey(k string) string {
	k = strings.ReplaceAll(k, "licence", "license")
	k = strings.NewReplacer(`"`, "", "'", "", ",", " ").Replace(k)
	k = strings.Join(strings.Fields(k), " ")
	return strings.TrimPrefix(k, "the ")
}

// canonicalID replaces the deprecated GNU identifiers by their -only and
// -or-later forms ("GPL-2.0+" is "GPL-2.0-or-later").
func canonicalID(id string) string {
	if !isGNU(id) {
		return id
	}
	l := spdxList()
	if base, ok := strings.CutSuffix(id, "+"); ok {
		if in, ok := l.byID[strings.ToLower(base+"-or-later")]; ok {
			return in.ID
		}
		return id
	}
	if in, ok := l.byID[strings.ToLower(id+"-only")]; ok && l.byID[strings.ToLower(id)].Deprecated {
		return in.ID
	}
	return id
}

func isGNU(id string) bool {
	for _, p := range []string{"GPL-", "LGPL-", "AGPL-"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// orLater applies "+" to an identifier.
func orLater(id string) string {
	l := spdxList()
	base := strings.TrimSuffix(id, "-only")
	if in, ok := l.byID[strings.ToLower(base+"-or-later")]; ok {
		return in.ID
	}
	if strings.HasSuffix(id, "-or-later") || strings.HasSuffix(id, "+") {
		return id
	}
	return id + "+"
}

// gnuID builds GPL/LGPL/AGPL identifiers from a family letter, a version and a suffix.
func gnuID(fam, ver, suffix string) (string, bool) {
	name := map[string]string{"": "GPL", "a": "AGPL", "l": "LGPL"}[fam]
	if !strings.Contains(ver, ".") {
		ver += ".0"
	}
	suffix = strings.TrimSpace(suffix)
	form := "-only"
	if suffix != "" && suffix != "-only" && suffix != "only" {
		form = "-or-later"
	}
	in, ok := spdxList().byID[strings.ToLower(name+"-"+ver+form)]
	if !ok {
		return "", false
	}
	return in.ID, true
}

// versioned finds FAMILY-ver or FAMILY-ver.0 in the list.
func versioned(fam, ver string) (string, bool) {
	l := spdxList()
	for _, c := range []string{fam + "-" + ver, fam + "-" + ver + ".0"} {
		if in, ok := l.byID[strings.ToLower(c)]; ok && !in.Deprecated {
			return in.ID, true
		}
	}
	return "", false
}

// debianID reads the Debian copyright short names with a version
// (https://dep-team.pages.debian.net/deps/dep5/#license-short-name).
func debianID(base, ver string, plus bool) (string, bool) {
	l := spdxList()
	switch base {
	case "gfdl", "gfdl-niv":
		if !strings.Contains(ver, ".") {
			return "", false
		}
		id := "GFDL-" + ver
		if base == "gfdl-niv" {
			id += "-no-invariants"
		}
		if plus {
			id += "-or-later"
		} else {
			id += "-only"
		}
		in, ok := l.byID[strings.ToLower(id)]
		return in.ID, ok
	case "artistic", "apache", "bsl", "mpl", "cc-by", "cc-by-sa", "cc-by-nd", "cc-by-nc", "cc-by-nc-sa", "cc-by-nc-nd", "cc0", "cddl", "epl", "efl", "lppl", "python", "zpl", "ofl", "cpl", "qpl", "w3c", "zope":
		fam := map[string]string{"artistic": "Artistic", "apache": "Apache", "bsl": "BSL", "mpl": "MPL", "cddl": "CDDL", "epl": "EPL", "efl": "EFL", "lppl": "LPPL", "python": "Python", "zpl": "ZPL", "zope": "ZPL", "ofl": "OFL", "cpl": "CPL", "qpl": "QPL", "w3c": "W3C"}[base]
		if fam == "" {
			fam = strings.ToUpper(base)
		}
		id, ok := versioned(fam, ver)
		if !ok {
			return "", false
		}
		if plus {
			id = orLater(id)
		}
		return id, true
	}
	return "", false
}

// resolveException maps the text after WITH to an SPDX exception identifier, or "".
func resolveException(s string) string {
	s = strings.TrimSpace(s)
	if id, ok := IsException(s); ok {
		return id
	}
	// Debian writes "GPL-2 with Linux-syscall-note exception", "with Texinfo exception".
	if base, ok := strings.CutSuffix(strings.ToLower(s), " exception"); ok {
		for _, c := range []string{base, base + "-exception"} {
			if id, ok := IsException(c); ok {
				return id
			}
		}
	}
	return exceptionAliases[nameKey(strings.ToLower(s))]
}

// versionedExceptions name the exception that goes with each GPL version,
// for exceptions that exist in one version per GPL version.
var versionedExceptions = map[string]map[string]string{
	"autoconf": {"GPL-2.0": "Autoconf-exception-2.0", "GPL-3.0": "Autoconf-exception-3.0"},
	"gcc":      {"GPL-2.0": "GCC-exception-2.0", "GPL-3.0": "GCC-exception-3.1"},
}

// exceptionFor resolves "X with E" where E alone is ambiguous but X's GPL
// version decides it ("GPL-3+ with Autoconf exception").
func exceptionFor(lic, raw string) string {
	if id := resolveException(raw); id != "" {
		return id
	}
	key := strings.TrimSuffix(strings.TrimSpace(strings.ToLower(raw)), " exception")
	byGPL, ok := versionedExceptions[key]
	if !ok {
		return ""
	}
	for gpl, id := range byGPL {
		if strings.HasPrefix(lic, gpl+"-") || lic == gpl || lic == gpl+"+" {
			return id
		}
	}
	return ""
}
