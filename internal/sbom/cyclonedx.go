package sbom

import (
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/license"
)

// Property names of the CycloneDX components.
const (
	propLayerIndex  = "shipshape:layer:index"
	propLayerDigest = "shipshape:layer:digest"
	propLocation    = "shipshape:location"
	propLicensePath = "shipshape:license:location"
	propEcosystem   = "shipshape:package:ecosystem"
	propType        = "shipshape:package:type"
	propArch        = "shipshape:package:arch"
	propSource      = "shipshape:package:source"
)

// CycloneDX builds a CycloneDX 1.6 BOM: the image is metadata.component (type
// container), each package a component with its purl, licenses and
// properties naming the file and layer it was found in.
func CycloneDX(in Input) *cdx.BOM {
	bom := cdx.NewBOM()
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.SerialNumber = "urn:uuid:" + newUUID()
	subject := &cdx.Component{
		BOMRef:     "image",
		Type:       cdx.ComponentTypeContainer,
		Name:       in.subjectName(),
		Version:    in.subjectDigest(),
		PackageURL: imagePURL(in),
	}
	var props []cdx.Property
	if in.FS != nil {
		for i, l := range in.FS.Layers() {
			props = append(props, cdx.Property{Name: fmt.Sprintf("shipshape:image:layer:%d", i), Value: l.Digest})
		}
	}
	if p := in.Image.Platform.String(); p != "" {
		props = append(props, cdx.Property{Name: "shipshape:image:platform", Value: p})
	}
	if len(props) > 0 {
		subject.Properties = &props
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: in.Now.UTC().Format("2006-01-02T15:04:05Z"),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "shipshape", Version: in.ToolVersion,
		}}},
		Component: subject,
	}
	var comps []cdx.Component
	var refs []string
	if osr := osInfo(in); osr != nil {
		comps = append(comps, cdx.Component{BOMRef: "os", Type: cdx.ComponentTypeOS, Name: osr.ID, Version: osr.VersionID, Description: osr.PrettyName})
		refs = append(refs, "os")
	}
	for i, p := range in.packages() {
		c := cdx.Component{
			BOMRef:     fmt.Sprintf("pkg-%d", i),
			Type:       cdx.ComponentTypeLibrary,
			Name:       p.Name,
			Version:    p.Version,
			PackageURL: PURL(p, osInfo(in)),
			Licenses:   cdxLicenses(p.Licenses),
		}
		if p.Type == "binary" {
			c.Type = cdx.ComponentTypeApplication
		}
		props := []cdx.Property{
			{Name: propEcosystem, Value: p.Ecosystem},
			{Name: propLocation, Value: p.Path},
			{Name: propLayerIndex, Value: strconv.Itoa(p.Layer)},
		}
		if d := in.layerDigest(p.Layer); d != "" {
			props = append(props, cdx.Property{Name: propLayerDigest, Value: d})
		}
		if p.Type != "" {
			props = append(props, cdx.Property{Name: propType, Value: p.Type})
		}
		if p.Arch != "" {
			props = append(props, cdx.Property{Name: propArch, Value: p.Arch})
		}
		if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != p.Version) {
			props = append(props, cdx.Property{Name: propSource, Value: strings.TrimSuffix(p.SourceName+"@"+p.SourceVersion, "@")})
		}
		for _, lp := range p.LicensePaths {
			props = append(props, cdx.Property{Name: propLicensePath, Value: lp})
		}
		c.Properties = &props
		comps = append(comps, c)
		refs = append(refs, c.BOMRef)
	}
	bom.Components = &comps
	if len(refs) > 0 {
		bom.Dependencies = &[]cdx.Dependency{{Ref: "image", Dependencies: &refs}}
	}
	return bom
}

// WriteCycloneDX writes the CycloneDX 1.6 JSON document.
func WriteCycloneDX(w io.Writer, in Input) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.EncodeVersion(CycloneDX(in), cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("writing CycloneDX: %w", err)
	}
	return nil
}

// cdxLicenses turns declared licenses into CycloneDX licenses. The schema
// allows either license objects or one expression: a single compound SPDX
// expression is written as the expression; otherwise each license is an
// object, with its SPDX id when it is one identifier on the list, or its name.
func cdxLicenses(lics []string) *cdx.Licenses {
	if len(lics) == 0 {
		return nil
	}
	if len(lics) == 1 && license.IsSPDX(lics[0]) && !isSingleID(lics[0]) {
		return &cdx.Licenses{{Expression: lics[0]}}
	}
	out := make(cdx.Licenses, 0, len(lics))
	for _, l := range lics {
		if isSingleID(l) {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: l}})
		} else {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
		}
	}
	return &out
}

// isSingleID reports whether s is one identifier of the SPDX License List.
func isSingleID(s string) bool {
	in, ok := license.Lookup(s)
	return ok && in.ID == s
}

func osInfo(in Input) *inventory.OS {
	if in.Inv == nil {
		return nil
	}
	return in.Inv.OS
}

// imagePURL is pkg:oci/NAME@DIGEST?repository_url=..., when the digest is known.
func imagePURL(in Input) string {
	d := in.subjectDigest()
	if d == "" {
		return ""
	}
	name := in.Image.Repository
	var q packageurl.Qualifiers
	if name != "" {
		if i := strings.LastIndex(name, "/"); i >= 0 {
			q = append(q, packageurl.Qualifier{Key: "repository_url", Value: name})
			name = name[i+1:]
		}
	} else {
		name = "image"
	}
	return packageurl.NewPackageURL("oci", "", strings.ToLower(name), d, q, "").ToString()
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
