package sbom

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSONSchema names the version of shipshape's own SBOM JSON.
const JSONSchema = "shipshape-sbom/1"

// JSONDocument is shipshape's own SBOM format: the image and a flat package list.
type JSONDocument struct {
	Schema   string        `json:"schema"`
	Tool     string        `json:"tool"`
	Created  string        `json:"created"`
	Image    JSONImage     `json:"image"`
	Packages []JSONPackage `json:"packages"`
}

// JSONImage is the subject of the document.
type JSONImage struct {
	Name     string   `json:"name"`
	Digest   string   `json:"digest,omitempty"`
	Platform string   `json:"platform,omitempty"`
	OS       string   `json:"os,omitempty"`
	Layers   []string `json:"layers,omitempty"`
}

// JSONPackage is one package with where it was found.
type JSONPackage struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Ecosystem     string   `json:"ecosystem"`
	Type          string   `json:"type,omitempty"`
	PURL          string   `json:"purl,omitempty"`
	Arch          string   `json:"arch,omitempty"`
	SourceName    string   `json:"source_name,omitempty"`
	SourceVersion string   `json:"source_version,omitempty"`
	Licenses      []string `json:"licenses,omitempty"`
	LicensePaths  []string `json:"license_paths,omitempty"`
	Path          string   `json:"path"`
	Layer         int      `json:"layer"`
	LayerDigest   string   `json:"layer_digest,omitempty"`
}

// Document builds the JSON document.
func Document(in Input) JSONDocument {
	d := JSONDocument{
		Schema:   JSONSchema,
		Tool:     "shipshape " + in.ToolVersion,
		Created:  in.Now.UTC().Format("2006-01-02T15:04:05Z"),
		Image:    JSONImage{Name: in.subjectName(), Digest: in.subjectDigest(), Platform: in.Image.Platform.String()},
		Packages: []JSONPackage{},
	}
	if osr := osInfo(in); osr != nil {
		d.Image.OS = osr.PrettyName
	}
	if in.FS != nil {
		for _, l := range in.FS.Layers() {
			d.Image.Layers = append(d.Image.Layers, l.Digest)
		}
	}
	for _, p := range in.packages() {
		d.Packages = append(d.Packages, JSONPackage{
			Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Type: p.Type, PURL: PURL(p, osInfo(in)),
			Arch: p.Arch, SourceName: p.SourceName, SourceVersion: p.SourceVersion,
			Licenses: p.Licenses, LicensePaths: p.LicensePaths,
			Path: p.Path, Layer: p.Layer, LayerDigest: in.layerDigest(p.Layer),
		})
	}
	return d
}

// WriteJSON writes shipshape's own SBOM JSON.
func WriteJSON(w io.Writer, in Input) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Document(in)); err != nil {
		return fmt.Errorf("writing SBOM JSON: %w", err)
	}
	return nil
}
