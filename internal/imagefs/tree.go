package imagefs

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// MaxSymlinkHops bounds symlink resolution so that loops end.
const MaxSymlinkHops = 40

// ErrLoop is returned when resolving a path takes more than MaxSymlinkHops links.
var ErrLoop = errors.New("too many levels of symbolic links")

// Deletion records a path that was present in a lower layer and removed by a later one
// (whiteout, opaque directory, or replacement of a directory by a non-directory).
type Deletion struct {
	Path string
	// Layer is the layer that deleted the path.
	Layer int
	// Last is the layer that wrote the version that was deleted.
	Last int
	Type Type
}

// Node is a path in the final filesystem.
type Node struct {
	File
	// Added is the layer in which this path (in its current incarnation) first appeared.
	Added int
	// Changed lists the layers after Added that rewrote the path, in order.
	Changed  []int
	children map[string]*Node
	// sorted are the children in path order, set by FS.freeze once the
	// tree no longer changes (every walk of the checks reuses them).
	sorted []*Node
}

// FS is the final filesystem of an image, metadata only.
// It is safe for concurrent reads once the walk has finished.
type FS struct {
	root    *Node
	deleted []Deletion
	layers  []Layer
	entries int
}

func newFS() *FS {
	return &FS{root: &Node{File: File{Path: "/", Type: TypeDir, Mode: 0o755}, children: map[string]*Node{}}}
}

// Layers describes the layers the filesystem was built from, base first.
func (t *FS) Layers() []Layer { return t.layers }

// Deleted lists the paths that a later layer removed, in the order they were removed.
func (t *FS) Deleted() []Deletion { return t.deleted }

// Entries counts the tar entries read across all layers.
func (t *FS) Entries() int { return t.entries }

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// put stores f, creating missing parents as directories. The walk has already
// cleaned f.Path.
func (t *FS) put(f File) {
	parts := split(f.Path)
	if len(parts) == 0 {
		// The root itself: keep its metadata.
		t.root.Mode, t.root.UID, t.root.GID = f.Mode, f.UID, f.GID
		return
	}
	dir := t.root
	for i, name := range parts[:len(parts)-1] {
		child := dir.children[name]
		if child == nil || child.Type != TypeDir {
			if child != nil {
				t.removeNode(child, f.Layer)
			}
			p := "/" + strings.Join(parts[:i+1], "/")
			child = &Node{File: File{Path: p, Layer: f.Layer, Type: TypeDir, Mode: 0o755}, Added: f.Layer, children: map[string]*Node{}}
			dir.children[name] = child
		}
		dir = child
	}
	name := parts[len(parts)-1]
	old := dir.children[name]
	switch {
	case old == nil:
		n := &Node{File: f, Added: f.Layer}
		if f.Type == TypeDir {
			n.children = map[string]*Node{}
		}
		dir.children[name] = n
	case old.Type == TypeDir && f.Type == TypeDir:
		children := old.children
		old.File = f
		old.children = children
		old.noteChange(f.Layer)
	default:
		if old.Type == TypeDir {
			for _, c := range old.children {
				t.removeNode(c, f.Layer)
			}
		}
		n := &Node{File: f, Added: old.Added, Changed: old.Changed}
		n.noteChange(f.Layer)
		if f.Type == TypeDir {
			n.children = map[string]*Node{}
		}
		dir.children[name] = n
	}
}

func (n *Node) noteChange(layer int) {
	if layer == n.Added {
		return
	}
	if k := len(n.Changed); k > 0 && n.Changed[k-1] == layer {
		return
	}
	n.Changed = append(n.Changed, layer)
}

// removeNode records n and everything below it as deleted by layer.
func (t *FS) removeNode(n *Node, layer int) {
	if n.Layer < layer {
		t.deleted = append(t.deleted, Deletion{Path: n.Path, Layer: layer, Last: n.Layer, Type: n.Type})
	}
	for _, c := range sortedChildren(n) {
		t.removeNode(c, layer)
	}
}

// lastBefore is the last layer before layer that wrote the node.
func (n *Node) lastBefore(layer int) int {
	last := n.Added
	for _, l := range n.Changed {
		if l < layer {
			last = l
		}
	}
	return last
}

// whiteout removes p (and what lies below it) as written by layers below layer.
func (t *FS) whiteout(p string, layer int) {
	parent, name := t.parentOf(p)
	if parent == nil {
		return
	}
	n := parent.children[name]
	switch {
	case n == nil:
	case n.Layer < layer:
		t.removeNode(n, layer)
		delete(parent.children, name)
	case n.Type == TypeDir:
		// The same layer wrote the directory before its whiteout: what lower
		// layers put in it is gone, the directory itself is this layer's.
		t.prune(n, layer)
	}
}

// opaque hides every entry below dir that layers below layer wrote.
func (t *FS) opaque(dir string, layer int) {
	n := t.root
	for _, name := range split(dir) {
		if n = n.children[name]; n == nil || n.Type != TypeDir {
			return
		}
	}
	t.prune(n, layer)
}

func (t *FS) prune(dir *Node, layer int) {
	for _, c := range sortedChildren(dir) {
		name := path.Base(c.Path)
		if c.Layer >= layer {
			if c.Added < layer {
				// Rewritten by this layer before the opaque marker: the lower
				// version is hidden all the same, and this layer's is new.
				t.deleted = append(t.deleted, Deletion{Path: c.Path, Layer: layer, Last: c.lastBefore(layer), Type: c.Type})
				c.Added, c.Changed = layer, nil
			}
			if c.Type == TypeDir {
				t.prune(c, layer)
			}
			continue
		}
		if c.Type == TypeDir {
			t.prune(c, layer)
			if len(c.children) > 0 {
				// Still holds entries of this layer: it stays, as this layer's directory.
				t.deleted = append(t.deleted, Deletion{Path: c.Path, Layer: layer, Last: c.Layer, Type: TypeDir})
				c.Layer = layer
				c.Added = layer
				c.Changed = nil
				continue
			}
		}
		t.removeNode(c, layer)
		delete(dir.children, name)
	}
}

func (t *FS) parentOf(p string) (*Node, string) {
	parts := split(p)
	if len(parts) == 0 {
		return nil, ""
	}
	n := t.root
	for _, name := range parts[:len(parts)-1] {
		if n = n.children[name]; n == nil || n.Type != TypeDir {
			return nil, ""
		}
	}
	return n, parts[len(parts)-1]
}

// Lookup returns the node at the exact path p without following a final
// symlink (like lstat). Intermediate symlinks are followed inside the root.
func (t *FS) Lookup(p string) (*Node, bool) {
	n, _, err := t.resolve(p, false)
	return n, err == nil
}

// Stat resolves p, following symlinks and hard links inside the image root,
// and returns the node with the path it resolved to.
func (t *FS) Stat(p string) (*Node, string, error) {
	n, rp, err := t.resolve(p, true)
	if err != nil {
		return nil, "", &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	return n, rp, nil
}

// IsCurrent reports whether the version of p written by layer is the one in the
// final filesystem.
func (t *FS) IsCurrent(p string, layer int) bool {
	parent, name := t.parentOf(p)
	if parent == nil {
		return p == "/" && layer >= 0
	}
	n := parent.children[name]
	return n != nil && n.Layer == layer
}

// resolve walks p component by component. Absolute symlink targets restart at
// the image root and ".." at the root stays at the root, as container runtimes do.
func (t *FS) resolve(p string, followLast bool) (*Node, string, error) {
	todo := split(p)
	stack := []*Node{t.root}
	hops := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		cur := stack[len(stack)-1]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if cur.Type != TypeDir {
			return nil, "", fs.ErrNotExist
		}
		child := cur.children[name]
		if child == nil {
			return nil, "", fs.ErrNotExist
		}
		last := len(todo) == 0
		switch {
		case child.Type == TypeSymlink && (!last || followLast):
			if child.Link == "" {
				return nil, "", fs.ErrNotExist // as on Linux: an empty target resolves to nothing
			}
			if hops++; hops > MaxSymlinkHops {
				return nil, "", ErrLoop
			}
			if strings.HasPrefix(child.Link, "/") {
				stack = stack[:1]
			}
			todo = append(split(child.Link), todo...)
			continue
		case child.Type == TypeHardlink && (!last || followLast):
			if hops++; hops > MaxSymlinkHops {
				return nil, "", ErrLoop
			}
			stack = stack[:1]
			todo = append(split(child.Link), todo...)
			continue
		}
		stack = append(stack, child)
	}
	n := stack[len(stack)-1]
	return n, n.Path, nil
}

// ReadDir returns the entries of the directory at p (following symlinks), sorted by name.
func (t *FS) ReadDir(p string) ([]*Node, error) {
	n, _, err := t.Stat(p)
	if err != nil {
		return nil, err
	}
	if n.Type != TypeDir {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: errors.New("not a directory")}
	}
	return sortedChildren(n), nil
}

func sortedChildren(n *Node) []*Node {
	if n.sorted != nil || len(n.children) == 0 {
		return n.sorted
	}
	out := make([]*Node, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// freeze sorts every directory's children once: the tree is final (after
// the layer walk, or rebuilt from facts) and is then only read, by many
// checks and, in the service, by many goroutines.
func (t *FS) freeze() {
	var visit func(n *Node)
	visit = func(n *Node) {
		n.sorted = nil
		n.sorted = sortedChildren(n)
		for _, c := range n.sorted {
			if c.Type == TypeDir {
				visit(c)
			}
		}
	}
	visit(t.root)
}

// Walk calls fn for every node of the final filesystem in lexical order,
// parents before children, without following symlinks. The root is not visited.
// Returning fs.SkipDir from fn on a directory skips its contents.
func (t *FS) Walk(fn func(n *Node) error) error {
	var visit func(dir *Node) error
	visit = func(dir *Node) error {
		for _, c := range sortedChildren(dir) {
			err := fn(c)
			if err == fs.SkipDir {
				continue
			}
			if err != nil {
				return err
			}
			if c.Type == TypeDir {
				if err := visit(c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(t.root)
}

// Glob returns the final paths matching pattern (path.Match syntax per element),
// without following symlinks.
func (t *FS) Glob(pattern string) []string {
	var out []string
	parts := split(pattern)
	var visit func(n *Node, i int)
	visit = func(n *Node, i int) {
		if i == len(parts) {
			out = append(out, n.Path)
			return
		}
		if n.Type != TypeDir {
			return
		}
		for _, c := range sortedChildren(n) {
			if ok, _ := path.Match(parts[i], path.Base(c.Path)); ok {
				visit(c, i+1)
			}
		}
	}
	visit(t.root, 0)
	return out
}

// Empty returns a filesystem with only its root, for judging an image whose
// layers were not read.
func Empty() *FS { return newFS() }
