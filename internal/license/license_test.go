package license

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/github/go-spdx/v2/spdxexp"
)

// The embedded copy must be what the generator makes from the reference data.
func TestEmbeddedMatchesReferenceData(t *testing.T) {
	src := filepath.Join("..", "..", "..", "shared", "data", "spdx")
	if _, err := os.Stat(filepath.Join(src, "licenses.json")); err != nil {
		t.Skipf("reference data not beside the repository: %v", err)
	}
	out := t.TempDir()
	if err := runGen(t, src, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"licenses.tsv", "exceptions.tsv", "VERSION"} {
		want, _ := os.ReadFile(filepath.Join(out, f))
		got, _ := dataFS.ReadFile("data/" + f)
		if !bytes.Equal(want, got) {
			t.Errorf("data/%s is stale: run go generate ./internal/license", f)
		}
	}
}

func TestListIsComplete(t *testing.T) {
	l := spdxList()
	if len(l.byID) != 740 || len(l.exceptions) != 67 {
		t.Fatalf("the SPDX list 3.28 has 740 ids and 67 exceptions, got %d and %d", len(l.byID), len(l.exceptions))
	}
	if !strings.HasPrefix(ListVersion(), "3.28.0") {
		t.Errorf("version %q", ListVersion())
	}
	osi := 0
	for _, in := range l.byID {
		if in.OSI {
			osi++
		}
	}
	if osi != 149 {
		t.Errorf("149 OSI-approved ids, got %d", osi)
	}
}

// Every identifier of the real list normalises to a valid expression: itself,
// or for the deprecated GNU ids their -only/-or-later replacement.
func TestEveryListIDNormalises(t *testing.T) {
	for _, in := range spdxList().byID {
		for _, s := range []string{in.ID, strings.ToLower(in.ID), strings.ToUpper(in.ID)} {
			got, ok := Normalize(s)
			if !ok {
				t.Errorf("%q does not normalise", s)
				continue
			}
			if valid, bad := spdxexp.ValidateLicenses([]string{got}); !valid {
				t.Errorf("%q -> %q, which go-spdx rejects: %v", s, got, bad)
			}
			if in.Deprecated && isGNU(in.ID) && !strings.Contains(in.ID, "-with-") {
				if got == in.ID {
					t.Errorf("deprecated %s must become its -only/-or-later form", in.ID)
				}
				continue
			}
			if got != in.ID {
				t.Errorf("%q -> %q, want %q", s, got, in.ID)
			}
		}
	}
}

// The list's full names ("Apache License 2.0") map to their ids.
func TestEveryListNameNormalises(t *testing.T) {
	l := spdxList()
	names := map[string]int{}
	for _, in := range l.byID {
		names[strings.ToLower(in.Name)]++
	}
	checked := 0
	for _, in := range l.byID {
		if in.Name == "" || in.Deprecated || names[strings.ToLower(in.Name)] > 1 {
			continue
		}
		checked++
		if got, ok := Normalize(in.Name); !ok || got != in.ID {
			t.Errorf("name %q -> %q %v, want %s", in.Name, got, ok, in.ID)
		}
	}
	if checked < 600 {
		t.Errorf("only %d names checked", checked)
	}
}

func TestNormalizeFreeForm(t *testing.T) {
	cases := map[string]string{
		"MIT":                         "MIT",
		"mit":                         "MIT",
		"MIT License":                 "MIT",
		"The MIT License":             "MIT",
		"Expat":                       "MIT",
		"Apache License 2.0":          "Apache-2.0",
		"Apache License, Version 2.0": "Apache-2.0",
		"The Apache Software License, Version 2.0": "Apache-2.0",
		"Apache 2.0":                             "Apache-2.0",
		"Apache-2":                               "Apache-2.0",
		"apache2":                                "Apache-2.0",
		"GPLv2+":                                 "GPL-2.0-or-later",
		"GPLv2":                                  "GPL-2.0-only",
		"GPL v3 or later":                        "GPL-3.0-or-later",
		"GPL-2+":                                 "GPL-2.0-or-later",
		"GPL-2":                                  "GPL-2.0-only",
		"GPL-2.0+":                               "GPL-2.0-or-later",
		"GPL-2.0":                                "GPL-2.0-only",
		"LGPL-2.1+":                              "LGPL-2.1-or-later",
		"LGPLv3":                                 "LGPL-3.0-only",
		"AGPLv3+":                                "AGPL-3.0-or-later",
		"AGPL-3.0":                               "AGPL-3.0-only",
		"GNU General Public License v2 or later": "GPL-2.0-or-later",
		"GNU Lesser General Public License, version 2.1":                                     "LGPL-2.1-only",
		"GNU Affero General Public License v3":                                               "AGPL-3.0-only",
		"License :: OSI Approved :: MIT License":                                             "MIT",
		"License :: OSI Approved :: GNU General Public License v2 (GPLv2)":                   "GPL-2.0-only",
		"License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
		"License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
		"License :: OSI Approved :: ISC License (ISCL)":                                      "ISC",
		"License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)":                    "MPL-2.0",
		"License :: OSI Approved :: Python Software Foundation License":                      "PSF-2.0",
		"License :: OSI Approved :: The Unlicense (Unlicense)":                               "Unlicense",
		"BSD 3-Clause":                         "BSD-3-Clause",
		"New BSD License":                      "BSD-3-Clause",
		"Simplified BSD":                       "BSD-2-Clause",
		"BSD-3-clause":                         "BSD-3-Clause",
		"Eclipse Public License - v 1.0":       "EPL-1.0",
		"MPL 2.0":                              "MPL-2.0",
		"Mozilla Public License Version 1.1":   "MPL-1.1",
		"CC0":                                  "CC0-1.0",
		"Zlib":                                 "Zlib",
		"ZLIB":                                 "Zlib",
		"GFDL-NIV-1.3":                         "GFDL-1.3-no-invariants-only",
		"GFDL-1.2+":                            "GFDL-1.2-or-later",
		"CC-BY-SA-3":                           "CC-BY-SA-3.0",
		"Artistic-2":                           "Artistic-2.0",
		"Perl":                                 "Artistic-1.0-Perl OR GPL-1.0-or-later",
		"GPL-2+ or Artistic":                   "GPL-2.0-or-later OR Artistic-1.0-Perl",
		"gpl-2.0 or mit":                       "GPL-2.0-only OR MIT",
		"(MIT OR Apache-2.0) AND BSD-3-Clause": "(MIT OR Apache-2.0) AND BSD-3-Clause",
		"MIT or Apache-2.0 and BSD-3-Clause":   "MIT OR Apache-2.0 AND BSD-3-Clause",
		"GPL-2+ or Artistic-2.0, and BSD-3-clause":      "(GPL-2.0-or-later OR Artistic-2.0) AND BSD-3-Clause",
		"GPL-2 with Linux-syscall-note exception":       "GPL-2.0-only WITH Linux-syscall-note",
		"GPL-2.0-or-later WITH Classpath-exception-2.0": "GPL-2.0-or-later WITH Classpath-exception-2.0",
		"MPL-1.1+":               "MPL-1.1+",
		"LicenseRef-Proprietary": "LicenseRef-Proprietary",
		"  Apache-2.0  ":         "Apache-2.0",
	}
	for in, want := range cases {
		got, ok := Normalize(in)
		if !ok || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, ok, want)
		}
		if ok && !IsSPDX(got) {
			t.Errorf("%q -> %q is not valid SPDX", in, got)
		}
	}
}

// Ambiguous or unknown names are never guessed.
func TestNormalizeUnknownStaysUnknown(t *testing.T) {
	for _, in := range []string{
		"BSD", "GPL", "LGPL", "Apache", "Apache Software License", "BSD License", "BSD-style", "MIT-like",
		"License :: OSI Approved :: BSD License", "License :: OSI Approved :: Apache Software License",
		"License :: OSI Approved", "GNU Library or Lesser General Public License (LGPL)",
		"public-domain", "Public Domain", "custom", "none", "other", "UNKNOWN", "BSD-3-Clause~Adobe",
		"MIT BSD", "MIT OR", "(((", "GPL-3+ with Bison exception", "AGPL-3+ and custom", "LGPL-2.1+ with Autoconf exception",
		"GPL-2.1", "GNU General Public License (GPL)", "Apache License 3.0",
	} {
		got, ok := Normalize(in)
		if ok {
			t.Errorf("Normalize(%q) = %q: must stay unknown", in, got)
		}
		if got != strings.TrimSpace(in) {
			t.Errorf("unknown %q must be kept as written, got %q", in, got)
		}
	}
	if got, ok := Normalize(""); ok || got != "" {
		t.Errorf("empty: %q %v", got, ok)
	}
}

func TestDenied(t *testing.T) {
	deny := []string{"AGPL-3.0-only", "AGPL-3.0-or-later"}
	cases := map[string]bool{
		"AGPL-3.0-only":                           true,
		"AGPL-3.0":                                true, // deprecated id means -only
		"AGPL-3+":                                 true,
		"agplv3+":                                 true,
		"GNU Affero General Public License v3":    true,
		"AGPL-3+ with font exception":             true, // an exception does not change the license
		"AGPL-3+ and custom":                      true, // unknown parts do not help an AND
		"AGPL-3.0-or-later AND FTL":               true,
		"GPL-2.0-only OR AGPL-3.0-only":           false,
		"AGPL-3.0-only OR AGPL-3.0-or-later":      true,
		"(MIT OR AGPL-3.0-only) AND GPL-2.0-only": false,
		"(MIT AND AGPL-3.0-only) OR (Apache-2.0 AND AGPL-3.0-or-later)": true,
		"custom OR AGPL-3.0-only":  false, // an unknown alternative is not denied
		"MIT AGPL-3.0-only":        true,  // no operator: read as AND
		"AGPL-1.0-or-later":        false,
		"GPL-3.0-or-later":         false,
		"BSD":                      false,
		"LicenseRef-AGPL-3.0-only": false,
	}
	for in, want := range cases {
		if got := Parse(in).Denied(deny); got != want {
			t.Errorf("Denied(%q) = %v, want %v (parsed %q)", in, got, want, Parse(in))
		}
	}
	if Parse("").Denied(deny) {
		t.Error("nothing is not denied")
	}
	if got := Parse("AGPL-3.0-or-later AND MIT").DeniedLicenses(deny); len(got) != 1 || got[0] != "AGPL-3.0-or-later" {
		t.Errorf("DeniedLicenses: %v", got)
	}
	// The deny list is normalised too.
	if !Parse("GPL-2.0-only").Denied([]string{"GPL-2.0"}) {
		t.Error("a deprecated id in the deny list must match its replacement")
	}
}

func TestParseBounds(t *testing.T) {
	deep := strings.Repeat("(", 100) + "MIT" + strings.Repeat(")", 100)
	if _, ok := Normalize(deep); ok {
		t.Error("nesting over the depth limit must not parse")
	}
	long := strings.Repeat("MIT AND ", 1000) + "MIT"
	if _, ok := Normalize(long); ok {
		t.Error("strings over the length limit must not parse")
	}
	if e := Parse("MIT AND (Apache-2.0 OR BSD-2-Clause)"); strings.Join(e.Licenses(), ",") != "MIT,Apache-2.0,BSD-2-Clause" {
		t.Errorf("Licenses: %v", e.Licenses())
	}
	if u := Parse("MIT AND custom WITH foo").Unknown(); len(u) != 1 || u[0] != "custom" {
		t.Errorf("Unknown: %v", u)
	}
}
