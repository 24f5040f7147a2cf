// Package license turns the license strings that packages declare (SPDX
// expressions, Debian copyright short names, Python trove classifiers,
// free-form names such as "Apache License 2.0" or "GPLv2+") into SPDX license
// expressions, using an embedded copy of the SPDX License List. A string that
// cannot be mapped without guessing stays unknown.
package license

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
	"sync"
)

//go:generate go run ./gen -in ../../../shared/data/spdx -out data

//go:embed data/licenses.tsv data/exceptions.tsv data/VERSION
var dataFS embed.FS

// Info describes one identifier of the SPDX License List.
type Info struct {
	ID         string
	Name       string
	Deprecated bool
	OSI        bool
}

type list struct {
	version    string
	byID       map[string]Info   // lower-case id
	byName     map[string]string // lower-case full name -> id (non-deprecated preferred)
	exceptions map[string]string // lower-case id -> id
}

var (
	loadOnce sync.Once
	loaded   *list
	loadErr  error
)

func spdxList() *list {
	loadOnce.Do(func() { loaded, loadErr = loadList() })
	if loadErr != nil {
		// The data is embedded at build time; failing to read it is a build defect.
		panic(fmt.Sprintf("license: embedded SPDX list: %v", loadErr))
	}
	return loaded
}

func loadList() (*list, error) {
	l := &list{byID: map[string]Info{}, byName: map[string]string{}, exceptions: map[string]string{}}
	v, err := dataFS.ReadFile("data/VERSION")
	if err != nil {
		return nil, err
	}
	l.version = strings.TrimSpace(string(v))
	lic, err := dataFS.ReadFile("data/licenses.tsv")
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(lic)))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 || f[0] == "" {
			return nil, fmt.Errorf("licenses.tsv: bad line %q", sc.Text())
		}
		in := Info{ID: f[0], Name: f[1], Deprecated: strings.Contains(f[2], "D"), OSI: strings.Contains(f[2], "O")}
		l.byID[strings.ToLower(in.ID)] = in
		if in.Name == "" {
			continue
		}
		k := strings.ToLower(in.Name)
		if old, ok := l.byName[k]; !ok || l.byID[strings.ToLower(old)].Deprecated && !in.Deprecated {
			l.byName[k] = in.ID
		}
	}
	exc, err := dataFS.ReadFile("data/exceptions.tsv")
	if err != nil {
		return nil, err
	}
	sc = bufio.NewScanner(strings.NewReader(string(exc)))
	for sc.Scan() {
		id, _, _ := strings.Cut(sc.Text(), "\t")
		if id != "" {
			l.exceptions[strings.ToLower(id)] = id
		}
	}
	if len(l.byID) == 0 || len(l.exceptions) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return l, nil
}

// ListVersion is the version and release date of the embedded SPDX License List.
func ListVersion() string { return spdxList().version }

// Lookup returns the list's entry for an identifier, case-insensitively.
func Lookup(id string) (Info, bool) {
	in, ok := spdxList().byID[strings.ToLower(id)]
	return in, ok
}

// IsException reports whether id is an SPDX license exception identifier and
// returns it in the list's spelling.
func IsException(id string) (string, bool) {
	e, ok := spdxList().exceptions[strings.ToLower(id)]
	return e, ok
}
