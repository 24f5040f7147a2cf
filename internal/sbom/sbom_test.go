package sbom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/shipshape-dev/shipshape/internal/analyzer"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/sbom"
	"github.com/shipshape-dev/shipshape/internal/sbom/sbomtest"
	"github.com/shipshape-dev/shipshape/internal/source"
)

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// input scans a synthetic image made of real files: the dpkg status of a
// bookworm minbase, real copyright files, and an apk database in a later layer.
func input(t *testing.T) sbom.Input {
	t.Helper()
	layers := [][]imagetest.File{
		{
			imagetest.Text("/usr/lib/os-release", read(t, "../analyzer/testdata/os-release-bookworm")),
			imagetest.Symlink("/etc/os-release", "../usr/lib/os-release"),
			imagetest.Text("/var/lib/dpkg/status", read(t, "../analyzer/testdata/dpkg-status-bookworm-minbase")),
			imagetest.Text("/usr/share/doc/libc6/copyright", read(t, "../analyzer/testdata/copyright/libc6")),
			imagetest.Text("/usr/share/doc/tzdata/copyright", read(t, "../analyzer/testdata/copyright/tzdata")),
			imagetest.Text("/usr/share/doc/bash/copyright", read(t, "../analyzer/testdata/copyright/bash")),
			imagetest.Text("/usr/share/doc/libcap2/copyright", read(t, "../analyzer/testdata/copyright/libcap2")),
		},
		{imagetest.Text("/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\n\n")},
	}
	img := imagetest.Image(t, imagetest.Spec{Layers: layers})
	opened, err := source.Open(context.Background(), imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/team/app:1.0"), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opened.Close() })
	res, inv, err := analyzer.Run(context.Background(), opened.Layers, analyzer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	desc := facts.Describe(opened)
	return sbom.Input{Image: &desc, FS: res.FS, Inv: inv, ToolVersion: "test", Now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
}

func write(t *testing.T, format string, in sbom.Input) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := sbom.Write(&buf, format, in); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCycloneDX(t *testing.T) {
	in := input(t)
	data := write(t, "cyclonedx-json", in)
	if err := sbomtest.Validate("cyclonedx-json", data); err != nil {
		t.Fatal(err)
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("spec %v serial %q", bom.SpecVersion, bom.SerialNumber)
	}
	subj := bom.Metadata.Component
	if subj.Type != cdx.ComponentTypeContainer || subj.Version != in.Image.Digest || !strings.HasPrefix(subj.Version, "sha256:") || !strings.HasPrefix(subj.PackageURL, "pkg:oci/app@sha256") {
		t.Errorf("subject %+v", subj)
	}
	byName := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		byName[c.Name] = c
	}
	// 88 packages of the minbase status + 2 apk + the OS.
	if len(byName) != 91 {
		t.Errorf("%d components", len(byName))
	}
	libc := byName["libc6"]
	if !strings.HasPrefix(libc.PackageURL, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u") || !strings.Contains(libc.PackageURL, "distro=debian-12") || !strings.Contains(libc.PackageURL, "upstream=glibc") {
		t.Errorf("libc6 purl %q", libc.PackageURL)
	}
	var ids []string
	for _, l := range *libc.Licenses {
		ids = append(ids, l.License.ID)
	}
	if strings.Join(ids, ",") != "LGPL-2.1-or-later,GPL-2.0-or-later" {
		t.Errorf("libc6 licenses %q", ids)
	}
	props := map[string]string{}
	for _, p := range *libc.Properties {
		props[p.Name] = p.Value
	}
	layers := in.FS.Layers()
	if props["shipshape:layer:index"] != "0" || props["shipshape:layer:digest"] != layers[0].Digest || props["shipshape:location"] != "/var/lib/dpkg/status" || props["shipshape:license:location"] != "/usr/share/doc/libc6/copyright" {
		t.Errorf("libc6 properties %v", props)
	}
	// A compound expression is written as one expression, an unknown license by name.
	if l := *byName["libcap2"].Licenses; l[0].License == nil || l[0].License.Name != "BSD-3-Clause OR GPL-2.0-only" {
		t.Errorf("libcap2 has two expressions, written as names: %+v", l)
	}
	if l := *byName["tzdata"].Licenses; len(l) != 1 || l[0].License.Name != "public-domain" {
		t.Errorf("tzdata %+v", l)
	}
	musl := byName["musl"]
	if !strings.HasPrefix(musl.PackageURL, "pkg:apk/debian/musl@1.2.4-r2?arch=x86_64") {
		t.Errorf("the apk purl takes the image's OS: %q", musl.PackageURL)
	}
	mp := map[string]string{}
	for _, p := range *musl.Properties {
		mp[p.Name] = p.Value
	}
	if mp["shipshape:layer:index"] != "1" || mp["shipshape:layer:digest"] != layers[1].Digest {
		t.Errorf("musl is in layer 1: %v", mp)
	}
}

func TestSPDX(t *testing.T) {
	in := input(t)
	data := write(t, "spdx-json", in)
	if err := sbomtest.Validate("spdx-json", data); err != nil {
		t.Fatal(err)
	}
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.LicenseListVersion != "3.28.0" {
		t.Errorf("%s %s", doc.SPDXVersion, doc.CreationInfo.LicenseListVersion)
	}
	if len(doc.Packages) != 91 { // the image + 88 deb + 2 apk
		t.Errorf("%d packages", len(doc.Packages))
	}
	root := doc.Packages[0]
	if root.PrimaryPackagePurpose != "CONTAINER" || root.PackageVersion != in.Image.Digest || root.PackageChecksums[0].Value != strings.TrimPrefix(in.Image.Digest, "sha256:") {
		t.Errorf("root %+v", root)
	}
	describes, contains := 0, 0
	for _, r := range doc.Relationships {
		switch {
		case r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == "DOCUMENT" && r.RefB.ElementRefID == root.PackageSPDXIdentifier:
			describes++
		case r.Relationship == "CONTAINS" && r.RefA.ElementRefID == root.PackageSPDXIdentifier:
			contains++
		}
	}
	if describes != 1 || contains != 90 {
		t.Errorf("DESCRIBES %d, CONTAINS %d", describes, contains)
	}
	var bash, tz string
	for _, p := range doc.Packages {
		switch p.PackageName {
		case "bash":
			bash = p.PackageLicenseDeclared
		case "tzdata":
			tz = p.PackageLicenseDeclared
		}
	}
	if !strings.Contains(bash, "GPL-3.0-or-later AND LicenseRef-GPL-3-with-Bison-exception-") || !strings.Contains(bash, "(BSD-4-Clause-UC AND LicenseRef-MIT-like)") && !strings.Contains(bash, "LicenseRef-BSD-4-clause-UC-and-MIT-like") {
		t.Errorf("bash declared %q", bash)
	}
	if tz != "LicenseRef-public-domain" {
		t.Errorf("tzdata declared %q", tz)
	}
	refs := map[string]string{}
	for _, o := range doc.OtherLicenses {
		refs[o.LicenseIdentifier] = o.ExtractedText
	}
	if refs["LicenseRef-public-domain"] != "public-domain" {
		t.Errorf("every LicenseRef must be defined with its declared text: %v", refs)
	}
}

func TestJSONAndTable(t *testing.T) {
	in := input(t)
	var doc sbom.JSONDocument
	if err := json.Unmarshal(write(t, "json", in), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != sbom.JSONSchema || len(doc.Packages) != 90 || doc.Image.Digest != in.Image.Digest || len(doc.Image.Layers) != 2 {
		t.Fatalf("%+v", doc.Image)
	}
	table := string(write(t, "table", in))
	for _, want := range []string{"NAME", "libc6", "LGPL-2.1-or-later; GPL-2.0-or-later", "Debian GNU/Linux 12 (bookworm)", "Packages  90"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if err := sbom.Write(&bytes.Buffer{}, "xml", in); err == nil {
		t.Error("an unknown format must fail")
	}
}

// The validator must reject what the schemas reject, or the tests above prove nothing.
func TestSchemasReject(t *testing.T) {
	in := input(t)
	bad := strings.Replace(string(write(t, "cyclonedx-json", in)), `"type": "container"`, `"type": "ship"`, 1)
	if err := sbomtest.Validate("cyclonedx-json", []byte(bad)); err == nil {
		t.Error("a component of an unknown type must not validate")
	}
	good := string(write(t, "spdx-json", in))
	bad = strings.Replace(good, `"primaryPackagePurpose": "CONTAINER"`, `"primaryPackagePurpose": "SHIP"`, 1)
	if bad == good {
		t.Fatal("the SPDX document has no CONTAINER package")
	}
	if err := sbomtest.Validate("spdx-json", []byte(bad)); err == nil {
		t.Error("an unknown package purpose must not validate")
	}
}
