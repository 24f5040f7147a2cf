// Package sbomtest validates SBOM documents against the official JSON
// schemas kept in internal/sbom/testdata/schema (CycloneDX 1.6 from npm
// @cyclonedx/cyclonedx-library, SPDX 2.3 from spdx/spdx-spec). It is for
// tests only: the schemas are not part of the product.
package sbomtest

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema files, by output format.
var schemaFiles = map[string]string{
	"cyclonedx-json": "bom-1.6.SNAPSHOT.schema.json",
	"spdx-json":      "spdx-schema-2.3.json",
}

// dirLoader serves every schema URL from the schema directory by base name,
// so that no validation ever reaches the network.
type dirLoader string

func (d dirLoader) Load(url string) (any, error) {
	f, err := os.Open(filepath.Join(string(d), path.Base(url)))
	if err != nil {
		return nil, fmt.Errorf("schema %s is not in %s: %w", url, d, err)
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// SchemaDir is the directory of the schema files.
func SchemaDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "schema")
}

func schema(format string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[format]; ok {
		return s, nil
	}
	name, ok := schemaFiles[format]
	if !ok {
		return nil, fmt.Errorf("no schema for format %q", format)
	}
	dir := SchemaDir()
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{"file": dirLoader(dir), "http": dirLoader(dir), "https": dirLoader(dir)})
	c.AssertFormat()
	s, err := c.Compile(filepath.ToSlash(filepath.Join(dir, name)))
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	compiled[format] = s
	return s, nil
}

// Validate checks a document of the given format ("cyclonedx-json" or
// "spdx-json") against its official schema.
func Validate(format string, data []byte) error {
	s, err := schema(format)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s document does not follow its schema: %w", format, err)
	}
	return nil
}
