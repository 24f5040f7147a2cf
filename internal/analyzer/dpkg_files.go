package analyzer

import (
	"bufio"
	"bytes"
	"io"
	"path"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// dpkgFiles reads /var/lib/dpkg/info/*.list (and distroless status.d-style
// *.md5sums) to learn which OS package owns which file, so that language
// catalogers do not report files of Debian's python3-* or node-* packages again.
type dpkgFiles struct{ capture }

func (a *dpkgFiles) Want() imagefs.Want {
	return imagefs.Want{Globs: []string{"/var/lib/dpkg/info/*.list", "/var/lib/dpkg/status.d/*.md5sums"}}
}

func (a *dpkgFiles) Analyze(f *imagefs.File, r io.Reader) error { return a.keep(f, r) }

func (a *dpkgFiles) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	if inv.Owned == nil {
		inv.Owned = map[string]string{}
	}
	for _, p := range a.current(fsys) {
		data := a.files[p].data
		base := path.Base(p)
		pkg := strings.TrimSuffix(strings.TrimSuffix(base, ".list"), ".md5sums")
		pkg, _, _ = strings.Cut(pkg, ":") // libc6:amd64.list
		md5 := strings.HasSuffix(base, ".md5sums")
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if md5 {
				// "<md5>  usr/bin/x"
				_, file, ok := strings.Cut(line, "  ")
				if !ok {
					continue
				}
				line = "/" + strings.TrimPrefix(file, "/")
			}
			if line == "" || line == "/." {
				continue
			}
			inv.Owned[path.Clean(line)] = pkg
		}
	}
	return nil
}
