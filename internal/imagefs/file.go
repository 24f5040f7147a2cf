// Package imagefs reads the layers of a container image in one streaming pass
// and builds the image's final filesystem tree in memory (metadata only),
// feeding file contents to analyzers as they stream by.
//
// Nothing is extracted to disk, no path ever resolves outside the image root,
// and every layer is checked against its digest and diff ID.
package imagefs

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Type is the kind of a filesystem entry.
type Type uint8

// Entry types, mirroring the tar type flags that matter in images.
const (
	TypeRegular Type = iota
	TypeDir
	TypeSymlink
	TypeHardlink
	TypeChar
	TypeBlock
	TypeFifo
)

func (t Type) String() string {
	switch t {
	case TypeRegular:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	case TypeHardlink:
		return "hardlink"
	case TypeChar:
		return "char"
	case TypeBlock:
		return "block"
	case TypeFifo:
		return "fifo"
	}
	return "unknown"
}

// File describes one version of one path, as one layer wrote it.
type File struct {
	// Path is absolute and clean ("/etc/passwd").
	Path string
	// Layer is the index of the layer that wrote this version (0 is the base).
	Layer int
	Type  Type
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid and fs.ModeSticky.
	Mode fs.FileMode
	Size int64
	// Link is the target of a symlink, or the absolute path a hard link points to.
	Link    string
	UID     int
	GID     int
	ModTime time.Time
}

// Name returns the last element of the path.
func (f *File) Name() string { return path.Base(f.Path) }

// IsExecutable reports whether any execute bit is set on a regular file.
func (f *File) IsExecutable() bool { return f.Type == TypeRegular && f.Mode&0o111 != 0 }

// cleanPath turns a tar entry name into an absolute clean path inside the root.
// It fails when the name climbs above the root with "..", holds a NUL byte,
// or exceeds the length limit.
func cleanPath(name string, maxLen int) (string, error) {
	if len(name) > maxLen {
		return "", fmt.Errorf("%w: path is %d bytes long, over the limit of %d", ErrLimit, len(name), maxLen)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("path holds a NUL byte")
	}
	rel := strings.TrimLeft(name, "/")
	depth := 0
	for _, part := range strings.Split(rel, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return "", fmt.Errorf("path climbs out of the image root with \"..\"")
			}
		default:
			depth++
		}
	}
	return path.Clean("/" + rel), nil
}

// fileFromHeader converts a tar header; ok is false for entry kinds that carry
// no filesystem object (PAX globals and the like).
func fileFromHeader(h *tar.Header, p string, layer int) (File, bool) {
	f := File{
		Path:    p,
		Layer:   layer,
		Mode:    fs.FileMode(h.Mode & 0o777),
		Size:    h.Size,
		UID:     h.Uid,
		GID:     h.Gid,
		ModTime: h.ModTime,
	}
	if h.Mode&04000 != 0 {
		f.Mode |= fs.ModeSetuid
	}
	if h.Mode&02000 != 0 {
		f.Mode |= fs.ModeSetgid
	}
	if h.Mode&01000 != 0 {
		f.Mode |= fs.ModeSticky
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		f.Type = TypeRegular
	case tar.TypeDir:
		f.Type = TypeDir
		f.Size = 0
	case tar.TypeSymlink:
		f.Type = TypeSymlink
		f.Link = h.Linkname // bounded by the walk (MaxPathLen)
		f.Size = 0
	case tar.TypeLink:
		f.Type = TypeHardlink
		f.Size = 0
	case tar.TypeChar:
		f.Type = TypeChar
	case tar.TypeBlock:
		f.Type = TypeBlock
	case tar.TypeFifo:
		f.Type = TypeFifo
	default:
		return File{}, false
	}
	return f, true
}
