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

// accounts reads /etc/passwd, /etc/group and /etc/shadow.
type accounts struct{ capture }

func (a *accounts) Want() imagefs.Want {
	return imagefs.Want{Paths: []string{"/etc/passwd", "/etc/group", "/etc/shadow"}}
}

func (a *accounts) Analyze(f *imagefs.File, r io.Reader) error { return a.keep(f, r) }

func (a *accounts) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	acc := &inv.Accounts
	if data, _, layer, ok := a.get(fsys, "/etc/passwd"); ok {
		acc.HasPasswd, acc.PasswdLayer = true, layer
		acc.Users = ParsePasswd(data)
	}
	if data, _, layer, ok := a.get(fsys, "/etc/group"); ok {
		acc.HasGroup, acc.GroupLayer = true, layer
		acc.Groups = ParseGroup(data)
	}
	if data, _, layer, ok := a.get(fsys, "/etc/shadow"); ok {
		acc.HasShadow, acc.ShadowLayer = true, layer
		acc.Shadow = ParseShadow(data)
	}
	return nil
}

// colonLines calls fn with the fields of each non-comment line and its 1-based number.
func colonLines(data []byte, fn func(fields []string, line int)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"), n)
	}
}

// ParsePasswd parses /etc/passwd; malformed lines are skipped.
func ParsePasswd(data []byte) []inventory.User {
	var out []inventory.User
	colonLines(data, func(f []string, line int) {
		if len(f) < 7 {
			return
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return
		}
		out = append(out, inventory.User{Name: f[0], Password: f[1], UID: uid, GID: gid, Home: f[5], Shell: f[6], Line: line})
	})
	return out
}

// ParseGroup parses /etc/group; malformed lines are skipped.
func ParseGroup(data []byte) []inventory.Group {
	var out []inventory.Group
	colonLines(data, func(f []string, line int) {
		if len(f) < 3 {
			return
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			return
		}
		g := inventory.Group{Name: f[0], GID: gid, Line: line}
		if len(f) > 3 && f[3] != "" {
			g.Members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out
}

// ParseShadow parses /etc/shadow; malformed lines are skipped.
func ParseShadow(data []byte) []inventory.Shadow {
	var out []inventory.Shadow
	colonLines(data, func(f []string, line int) {
		if len(f) < 2 {
			return
		}
		out = append(out, inventory.Shadow{Name: f[0], Hash: f[1], Line: line})
	})
	return out
}
