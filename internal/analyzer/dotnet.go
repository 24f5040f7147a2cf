package analyzer

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// maxDepsJSON bounds one .deps.json.
const maxDepsJSON = 64 << 20

// dotnet catalogs the NuGet packages a .NET application was built with,
// from the `libraries` of its <app>.deps.json.
type dotnet struct{ langFound }

func (a *dotnet) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool { return strings.HasSuffix(f.Path, ".deps.json") }}
}

func (a *dotnet) Analyze(f *imagefs.File, r io.Reader) error {
	data, err := readBounded(f, r, maxDepsJSON)
	if err != nil {
		return err
	}
	pkgs, err := ParseDepsJSON(data)
	if err != nil {
		return err
	}
	a.put(f, pkgs)
	return nil
}

func (a *dotnet) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.emit(fsys, inv)
	return nil
}

// ParseDepsJSON lists the libraries of type "package" ("Name/1.2.3" keys);
// projects and reference assemblies are not NuGet packages.
func ParseDepsJSON(data []byte) ([]inventory.Package, error) {
	var d struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decoding deps.json: %w", err)
	}
	keys := make([]string, 0, len(d.Libraries))
	for k := range d.Libraries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []inventory.Package
	for _, k := range keys {
		if d.Libraries[k].Type != "package" {
			continue
		}
		i := strings.LastIndex(k, "/")
		if i <= 0 || i == len(k)-1 {
			continue
		}
		name, version := k[:i], k[i+1:]
		out = append(out, langPackage(inventory.NuGet, name, version, purl(inventory.NuGet, "", name, version), nil))
	}
	return out, nil
}
