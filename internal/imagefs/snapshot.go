package imagefs

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// snapshot is the serialised form of an FS: every node in walk order (parents
// before children), the deletions, the layers and the entry count. Field
// names are short because a large image has hundreds of thousands of nodes.
type snapshot struct {
	Root    snapNode   `json:"root"`
	Nodes   []snapNode `json:"nodes"`
	Deleted []snapDel  `json:"deleted,omitempty"`
	Layers  []Layer    `json:"layers"`
	Entries int        `json:"entries"`
}

type snapNode struct {
	P  string      `json:"p"`
	L  int         `json:"l"`
	T  Type        `json:"t"`
	M  fs.FileMode `json:"m"`
	S  int64       `json:"s,omitempty"`
	K  string      `json:"k,omitempty"`
	U  int         `json:"u,omitempty"`
	G  int         `json:"g,omitempty"`
	MT int64       `json:"mt,omitempty"`
	A  int         `json:"a"`
	C  []int       `json:"c,omitempty"`
}

type snapDel struct {
	P  string `json:"p"`
	L  int    `json:"l"`
	LL int    `json:"ll"`
	T  Type   `json:"t"`
}

func toSnap(n *Node) snapNode {
	s := snapNode{P: n.Path, L: n.Layer, T: n.Type, M: n.Mode, S: n.Size, K: n.Link, U: n.UID, G: n.GID, A: n.Added, C: n.Changed}
	if !n.ModTime.IsZero() {
		s.MT = n.ModTime.Unix()
	}
	return s
}

func fromSnap(s snapNode) *Node {
	n := &Node{File: File{Path: s.P, Layer: s.L, Type: s.T, Mode: s.M, Size: s.S, Link: s.K, UID: s.U, GID: s.G}, Added: s.A, Changed: s.C}
	if s.MT != 0 {
		n.ModTime = time.Unix(s.MT, 0).UTC()
	}
	if s.T == TypeDir {
		n.children = map[string]*Node{}
	}
	return n
}

// MarshalJSON writes the whole final tree (metadata only), the deletions and
// the layers, so that an FS can be stored and judged again without reading
// the image.
func (t *FS) MarshalJSON() ([]byte, error) {
	s := snapshot{Root: toSnap(t.root), Layers: t.layers, Entries: t.entries}
	s.Nodes = make([]snapNode, 0, 1024)
	_ = t.Walk(func(n *Node) error {
		s.Nodes = append(s.Nodes, toSnap(n))
		return nil
	})
	for _, d := range t.deleted {
		s.Deleted = append(s.Deleted, snapDel{P: d.Path, L: d.Layer, LL: d.Last, T: d.Type})
	}
	return json.Marshal(s)
}

// UnmarshalJSON rebuilds an FS written by MarshalJSON. It checks what a
// hostile or corrupt file could break: every path is absolute and clean, its
// parent is a directory that came before it, and no path appears twice.
func (t *FS) UnmarshalJSON(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	nt := newFS()
	nt.root.Mode, nt.root.UID, nt.root.GID = s.Root.M, s.Root.U, s.Root.G
	nt.layers, nt.entries = s.Layers, s.Entries
	for i, sn := range s.Nodes {
		clean, err := cleanPath(sn.P, 4096)
		if err != nil || clean != sn.P || clean == "/" {
			return fmt.Errorf("filesystem node %d: path %q is not absolute and clean", i, sn.P)
		}
		if sn.T > TypeFifo {
			return fmt.Errorf("filesystem node %d (%s): unknown type %d", i, sn.P, sn.T)
		}
		parent, name := nt.parentOf(sn.P)
		if parent == nil || parent.Type != TypeDir {
			return fmt.Errorf("filesystem node %d (%s): its parent directory is missing", i, sn.P)
		}
		if _, dup := parent.children[name]; dup {
			return fmt.Errorf("filesystem node %d (%s): path listed twice", i, sn.P)
		}
		parent.children[name] = fromSnap(sn)
	}
	for _, d := range s.Deleted {
		if !strings.HasPrefix(d.P, "/") {
			return fmt.Errorf("deleted path %q is not absolute", d.P)
		}
		nt.deleted = append(nt.deleted, Deletion{Path: d.P, Layer: d.L, Last: d.LL, Type: d.T})
	}
	nt.freeze()
	*t = *nt
	return nil
}
