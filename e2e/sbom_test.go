package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/sbom/sbomtest"
)

type cdxDoc struct {
	SpecVersion string `json:"specVersion"`
	Metadata    struct {
		Component struct {
			Type       string `json:"type"`
			Version    string `json:"version"`
			Properties []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"properties"`
		} `json:"component"`
	} `json:"metadata"`
	Components []struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		PURL     string `json:"purl"`
		Licenses []struct {
			License *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"license"`
			Expression string `json:"expression"`
		} `json:"licenses"`
		Properties []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"properties"`
	} `json:"components"`
}

type spdxDoc struct {
	SPDXVersion string `json:"spdxVersion"`
	Packages    []struct {
		Name     string `json:"name"`
		Version  string `json:"versionInfo"`
		Purpose  string `json:"primaryPackagePurpose"`
		Declared string `json:"licenseDeclared"`
	} `json:"packages"`
	Relationships []struct {
		A    string `json:"spdxElementId"`
		Type string `json:"relationshipType"`
	} `json:"relationships"`
}

// Both SBOM formats, on real Debian images, follow the official schemas.
func TestSBOMFormatsOnFixtures(t *testing.T) {
	for _, name := range []string{"webapp", "nginx", "scratch", "ghostscript"} {
		t.Run(name, func(t *testing.T) {
			archive := fixture(t, name)
			r := shipshape(t, "sbom", "--format", "cyclonedx-json", archive)
			if r.code != 0 {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			if err := sbomtest.Validate("cyclonedx-json", []byte(r.stdout)); err != nil {
				t.Fatal(err)
			}
			var bom cdxDoc
			if err := json.Unmarshal([]byte(r.stdout), &bom); err != nil {
				t.Fatal(err)
			}
			if bom.SpecVersion != "1.6" || bom.Metadata.Component.Type != "container" || !strings.HasPrefix(bom.Metadata.Component.Version, "sha256:") {
				t.Errorf("subject %+v", bom.Metadata)
			}
			r = shipshape(t, "sbom", "--format", "spdx-json", archive)
			if r.code != 0 {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			if err := sbomtest.Validate("spdx-json", []byte(r.stdout)); err != nil {
				t.Fatal(err)
			}
			var doc spdxDoc
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.SPDXVersion != "SPDX-2.3" || doc.Packages[0].Purpose != "CONTAINER" || doc.Packages[0].Version != bom.Metadata.Component.Version {
				t.Errorf("root package %+v", doc.Packages[0])
			}
			pkgs := 0
			for _, c := range bom.Components {
				if c.Type != "operating-system" {
					pkgs++
				}
			}
			if len(doc.Packages) != pkgs+1 {
				// SPDX has the image as a package, CycloneDX as metadata.component.
				t.Errorf("SPDX has %d packages, CycloneDX %d package components", len(doc.Packages), pkgs)
			}
			if name == "scratch" {
				return
			}
			if len(bom.Components) < 80 {
				t.Errorf("a Debian image has ~90+ packages, got %d", len(bom.Components))
			}
			layerDigests := map[string]string{}
			for _, p := range bom.Metadata.Component.Properties {
				if i, ok := strings.CutPrefix(p.Name, "shipshape:image:layer:"); ok {
					layerDigests[i] = p.Value
				}
			}
			licensed := 0
			for _, c := range bom.Components {
				if len(c.Licenses) > 0 {
					licensed++
				}
				if c.Name == "libc6" {
					if !strings.HasPrefix(c.PURL, "pkg:deb/debian/libc6@") {
						t.Errorf("libc6 purl %q", c.PURL)
					}
					props := map[string]string{}
					for _, p := range c.Properties {
						props[p.Name] = p.Value
					}
					// The layer is the one that last wrote the dpkg database.
					if props["shipshape:layer:digest"] == "" || props["shipshape:layer:digest"] != layerDigests[props["shipshape:layer:index"]] || props["shipshape:location"] != "/var/lib/dpkg/status" || props["shipshape:license:location"] != "/usr/share/doc/libc6/copyright" {
						t.Errorf("libc6 properties %v, image layers %v", props, layerDigests)
					}
				}
			}
			if licensed*10 < len(bom.Components)*8 {
				t.Errorf("only %d of %d components have licenses", licensed, len(bom.Components))
			}
		})
	}
}

// Debian's ghostscript carries AGPL-3.0-or-later code: the default policy vetoes it.
func TestGhostscriptLicenseVeto(t *testing.T) {
	archive := fixture(t, "ghostscript")
	rep := checkJSON(t, 1, archive)
	fs := rep.mustHave(t, "CMP-002", "fail", "ghostscript", "libgs10", "AGPL-3.0-or-later")
	vetoed := map[string]bool{}
	for _, v := range rep.Verdict.Vetoes {
		vetoed[v.CheckID] = true
	}
	if !vetoed["CMP-002"] || rep.Verdict.Pass {
		t.Fatalf("the AGPL veto must fail the image: %+v", rep.Verdict)
	}
	for _, f := range fs {
		if !f.Veto || f.Severity != "critical" {
			t.Errorf("%q must be a critical veto", f.Title)
		}
		if strings.HasPrefix(f.Title, "ghostscript ") {
			e := f.Evidence[0]
			if e.Path != "/usr/share/doc/ghostscript/copyright" || e.Layer == nil || *e.Layer != 1 || e.LayerDigest != rep.Image.Layers[1].Digest || !strings.Contains(e.Value, "AGPL") {
				t.Errorf("the evidence must name the copyright file in the apt-get layer: %+v", e)
			}
		}
	}
	rep.mustHave(t, "CMP-001", "pass", "packages (")
	rep.mustHave(t, "CMP-003", "fail", "packages have no license found")
	rep.evidenceEverywhere(t)
	// The webapp image (the same Debian base) has no AGPL package.
	r := shipshape(t, "check", "--format", "json", fixture(t, "webapp"))
	var web jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &web); err != nil {
		t.Fatalf("%v: %s", err, r.stderr)
	}
	web.mustHave(t, "CMP-002", "pass")
}

func TestSBOMOutputAndErrors(t *testing.T) {
	archive := fixture(t, "webapp")
	out := filepath.Join(t.TempDir(), "sub", "sbom.json")
	r := shipshape(t, "sbom", "--format", "json", "-o", out, archive)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("-o: code %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema   string `json:"schema"`
		Packages []struct {
			Name, Version, Ecosystem string
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Schema != "shipshape-sbom/1" || len(doc.Packages) < 80 {
		t.Fatalf("%v %s %d", err, doc.Schema, len(doc.Packages))
	}
	r = shipshape(t, "sbom", archive)
	if r.code != 0 || !strings.Contains(r.stdout, "NAME") || !strings.Contains(r.stdout, "libc6") {
		t.Errorf("table: %d %s", r.code, r.stderr)
	}
	r = shipshape(t, "sbom", "--format", "xml", archive)
	if r.code != 2 || !strings.Contains(r.stderr, "cyclonedx-json") {
		t.Errorf("bad format: %d %s", r.code, r.stderr)
	}
	r = shipshape(t, "sbom", filepath.Join(t.TempDir(), "missing.tar"))
	if r.code != 2 {
		t.Errorf("missing input: %d %s", r.code, r.stderr)
	}
}
