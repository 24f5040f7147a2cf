// Package sbom writes the inventory of an image as a software bill of
// materials: CycloneDX 1.6 JSON, SPDX 2.3 JSON, shipshape's own JSON, or a
// text table. Every package carries its purl, licenses, the file it was found
// in and the layer (index and digest) that wrote that file; the image itself
// (its digest) is the subject of the document.
package sbom

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Formats are the output formats, as named on the command line.
var Formats = []string{"cyclonedx-json", "spdx-json", "json", "table"}

// Input is what a document is made from: the opened image, its final
// filesystem (for the layers) and the inventory of one analyzer run.
type Input struct {
	Image *facts.Image
	FS    *imagefs.FS
	Inv   *inventory.Inventory
	// ToolVersion is shipshape's version, recorded as the document's creator.
	ToolVersion string
	// Now is the document's creation time; zero means time.Now().
	Now time.Time
}

// Write writes the document in format to w.
func Write(w io.Writer, format string, in Input) error {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	switch format {
	case "cyclonedx-json":
		return WriteCycloneDX(w, in)
	case "spdx-json":
		return WriteSPDX(w, in)
	case "json":
		return WriteJSON(w, in)
	case "table":
		return WriteTable(w, in)
	}
	return fmt.Errorf("unknown SBOM format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// subjectName names the image: the reference it was read as, else the input.
func (in Input) subjectName() string {
	if in.Image.Reference != "" {
		return in.Image.Reference
	}
	return in.Image.Input
}

// subjectDigest is the image's manifest digest, or its config digest (image
// ID) when the source gives no manifest digest (docker archives).
func (in Input) subjectDigest() string {
	if in.Image.Digest != "" {
		return in.Image.Digest
	}
	return in.Image.ImageID
}

// layerDigest returns the digest of layer i, or "" when unknown.
func (in Input) layerDigest(i int) string {
	if in.FS == nil || i < 0 {
		return ""
	}
	if ls := in.FS.Layers(); i < len(ls) {
		return ls[i].Digest
	}
	return ""
}

func (in Input) packages() []inventory.Package {
	if in.Inv == nil {
		return nil
	}
	return in.Inv.Packages
}
