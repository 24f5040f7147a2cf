package analyzer

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// osRelease reads os-release (and the older release files as a fallback).
type osRelease struct{ capture }

func (a *osRelease) Want() imagefs.Want {
	return imagefs.Want{Paths: []string{"/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release", "/etc/debian_version"}}
}

func (a *osRelease) Analyze(f *imagefs.File, r io.Reader) error { return a.keep(f, r) }

func (a *osRelease) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if data, rp, layer, ok := a.get(fsys, p); ok {
			o := ParseOSRelease(data)
			if o.ID == "" {
				continue
			}
			o.Path, o.Layer = rp, layer
			inv.OS = o
			return nil
		}
	}
	if data, rp, layer, ok := a.get(fsys, "/etc/alpine-release"); ok {
		v := strings.TrimSpace(string(data))
		inv.OS = &inventory.OS{ID: "alpine", Name: "Alpine Linux", VersionID: v, PrettyName: "Alpine Linux v" + v, Path: rp, Layer: layer}
		return nil
	}
	if data, rp, layer, ok := a.get(fsys, "/etc/debian_version"); ok {
		v := strings.TrimSpace(string(data))
		major, _, _ := strings.Cut(v, ".")
		inv.OS = &inventory.OS{ID: "debian", Name: "Debian GNU/Linux", VersionID: major, PrettyName: "Debian GNU/Linux " + v, Path: rp, Layer: layer}
	}
	return nil
}

// ParseOSRelease parses the KEY=value lines of an os-release file.
func ParseOSRelease(data []byte) *inventory.OS {
	o := &inventory.OS{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		switch k {
		case "ID":
			o.ID = strings.ToLower(v)
		case "ID_LIKE":
			o.IDLike = strings.Fields(strings.ToLower(v))
		case "NAME":
			o.Name = v
		case "PRETTY_NAME":
			o.PrettyName = v
		case "VERSION_ID":
			o.VersionID = v
		case "VERSION_CODENAME":
			o.VersionCodename = v
		}
	}
	return o
}
