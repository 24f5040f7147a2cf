package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/shipshape-dev/shipshape/internal/license"
)

const noAssertion = "NOASSERTION"

// namespaceBase prefixes the SPDX document namespaces shipshape writes.
const namespaceBase = "https://github.com/shipshape-dev/shipshape/spdx/"

var notIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// SPDX builds an SPDX 2.3 document: a root package for the image (purpose
// CONTAINER, version its digest) that the document DESCRIBES and that
// CONTAINS every package. Declared licenses that are not on the SPDX License
// List become LicenseRef- identifiers with the declared text as extracted text.
func SPDX(in Input) *spdx.Document {
	name := in.subjectName()
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: namespaceBase + notIDChars.ReplaceAllString(name, "-") + "-" + newUUID(),
		CreationInfo: &spdx.CreationInfo{
			LicenseListVersion: strings.Fields(license.ListVersion())[0],
			Creators: []common.Creator{
				{CreatorType: "Tool", Creator: "shipshape-" + in.ToolVersion},
			},
			Created: in.Now.UTC().Format("2006-01-02T15:04:05Z"),
		},
	}
	root := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   "Image",
		PackageVersion:          in.subjectDigest(),
		PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
	}
	if d := in.subjectDigest(); strings.HasPrefix(d, "sha256:") {
		root.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: strings.TrimPrefix(d, "sha256:")}}
	}
	if p := imagePURL(in); p != "" {
		root.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p}}
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", "Image"), Relationship: "DESCRIBES",
	})
	refs := map[string]*spdx.OtherLicense{}
	for i, p := range in.packages() {
		id := common.ElementID(fmt.Sprintf("Package-%d-%s", i, idPart(p.Ecosystem+"-"+p.Name)))
		sp := &spdx.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          p.Version,
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  spdxDeclared(p.Licenses, refs),
			PackageCopyrightText:    noAssertion,
			PackageSourceInfo:       sourceInfo(in, p.Path, p.Layer, p.LicensePaths),
		}
		if p.Type == "binary" {
			sp.PrimaryPackagePurpose = "APPLICATION"
		} else {
			sp.PrimaryPackagePurpose = "LIBRARY"
		}
		if u := PURL(p, osInfo(in)); u != "" {
			sp.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: u}}
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", "Image"), RefB: common.MakeDocElementID("", string(id)), Relationship: "CONTAINS",
		})
	}
	doc.OtherLicenses = sortedRefs(refs)
	return doc
}

// WriteSPDX writes the SPDX 2.3 JSON document.
func WriteSPDX(w io.Writer, in Input) error {
	if err := spdxjson.Write(SPDX(in), w, spdxjson.Indent("  ")); err != nil {
		return fmt.Errorf("writing SPDX: %w", err)
	}
	return nil
}

// spdxDeclared joins a package's licenses with AND (a Debian package's
// licenses are those of its different files), replacing each declared string
// that is not an SPDX expression by a LicenseRef- recorded in refs.
func spdxDeclared(lics []string, refs map[string]*spdx.OtherLicense) string {
	if len(lics) == 0 {
		return noAssertion
	}
	var parts []string
	for _, l := range lics {
		if !license.IsSPDX(l) {
			id := "LicenseRef-" + idPart(l)
			if _, ok := refs[id]; !ok {
				refs[id] = &spdx.OtherLicense{LicenseIdentifier: id, ExtractedText: l, LicenseName: l,
					LicenseComment: "Declared license that is not on the SPDX License List (or is ambiguous); the declared text is kept as written."}
			}
			l = id
		}
		if len(lics) > 1 && strings.ContainsAny(l, " ") {
			l = "(" + l + ")"
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " AND ")
}

// idPart makes a string usable in SPDX identifiers; long or changed strings
// get a short hash so that different inputs stay different.
func idPart(s string) string {
	clean := strings.Trim(notIDChars.ReplaceAllString(s, "-"), "-")
	if clean == s && len(s) <= 64 && s != "" {
		return s
	}
	if len(clean) > 48 {
		clean = clean[:48]
	}
	sum := sha256.Sum256([]byte(s))
	return strings.Trim(clean+"-"+hex.EncodeToString(sum[:4]), "-")
}

// sourceInfo says where a package was found, with the layer.
func sourceInfo(in Input, path string, layer int, licensePaths []string) string {
	s := fmt.Sprintf("found in %s (layer %d", path, layer)
	if d := in.layerDigest(layer); d != "" {
		s += " " + d
	}
	s += ")"
	if len(licensePaths) > 0 {
		s += "; licenses from " + strings.Join(licensePaths, ", ")
	}
	return s
}

func sortedRefs(refs map[string]*spdx.OtherLicense) []*spdx.OtherLicense {
	out := make([]*spdx.OtherLicense, 0, len(refs))
	for _, l := range refs {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LicenseIdentifier < out[j].LicenseIdentifier })
	return out
}
