// Package imagetest assembles small synthetic images in memory for tests,
// and writes them as OCI layouts or docker-archive tarballs.
package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one tar entry of a synthetic layer. The type is a tar type flag
// (default regular file); Mode defaults to 0644 for files and 0755 for dirs.
type File struct {
	Path    string
	Type    byte
	Mode    int64
	Link    string
	Content string
	UID     int
	GID     int
}

// Spec describes a synthetic image.
type Spec struct {
	Layers [][]File
	Config v1.Config
	// Arch defaults to amd64.
	Arch    string
	Created time.Time
	// History, when set, replaces the generated one (one entry per layer).
	History []v1.History
}

// Dir, Symlink, Hardlink and Exec are shorthands for common entries.
func Dir(p string) File              { return File{Path: p, Type: tar.TypeDir} }
func Symlink(p, target string) File  { return File{Path: p, Type: tar.TypeSymlink, Link: target} }
func Hardlink(p, target string) File { return File{Path: p, Type: tar.TypeLink, Link: target} }
func Text(p, content string) File    { return File{Path: p, Content: content} }

// Exec is an executable file with the given content.
func Exec(p, content string) File { return File{Path: p, Content: content, Mode: 0o755} }

// Whiteout deletes p from lower layers.
func Whiteout(p string) File {
	dir, base := filepath.Split(p)
	return File{Path: dir + ".wh." + base}
}

// Opaque hides everything lower layers put under dir.
func Opaque(dir string) File { return File{Path: strings.TrimSuffix(dir, "/") + "/.wh..wh..opq"} }

// LayerTar writes files as an uncompressed tar.
func LayerTar(files []File) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
			if typ == tar.TypeSymlink {
				mode = 0o777
			}
		}
		h := &tar.Header{Name: strings.TrimPrefix(f.Path, "/"), Typeflag: typ, Mode: mode, Linkname: f.Link, Uid: f.UID, Gid: f.GID, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			h.Size = int64(len(f.Content))
		}
		if typ == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(f.Link, "/")
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if typ == tar.TypeReg {
			io.WriteString(tw, f.Content)
		}
	}
	tw.Close()
	return buf.Bytes()
}

// Image assembles the image (gzip layers).
func Image(t testing.TB, s Spec) v1.Image {
	t.Helper()
	img := empty.Image
	var layers []v1.Layer
	for _, files := range s.Layers {
		data := LayerTar(files)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = s.Arch
	if cf.Architecture == "" {
		cf.Architecture = "amd64"
	}
	cf.OS = "linux"
	cf.Config = s.Config
	created := s.Created
	if created.IsZero() {
		created = time.Now().Add(-24 * time.Hour)
	}
	cf.Created = v1.Time{Time: created}
	cf.History = s.History
	if cf.History == nil {
		for range s.Layers {
			cf.History = append(cf.History, v1.History{CreatedBy: "COPY . / # buildkit", Created: v1.Time{Time: created}})
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// WriteLayout writes img into a new OCI layout under dir with the ref.name
// annotation ref and returns the "oci:DIR" input for it.
func WriteLayout(t testing.TB, dir string, img v1.Image, ref string) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var opts []layout.Option
	if ref != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

// WriteArchive writes img as a docker-archive tarball tagged tag and returns
// the "docker-archive:FILE" input for it.
func WriteArchive(t testing.TB, file string, img v1.Image, tag string) string {
	t.Helper()
	tg, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(file, tg, img); err != nil {
		t.Fatal(err)
	}
	return "docker-archive:" + file
}

// ELF returns the head of an ELF64 little-endian executable for machine
// (62 amd64, 183 arm64) with interp as PT_INTERP (none when empty).
func ELF(machine uint16, interp string) string {
	var b bytes.Buffer
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF")
	hdr[4], hdr[5], hdr[6] = 2, 1, 1
	binary.LittleEndian.PutUint16(hdr[16:], 2) // ET_EXEC
	binary.LittleEndian.PutUint16(hdr[18:], machine)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint64(hdr[32:], 64) // phoff
	binary.LittleEndian.PutUint16(hdr[52:], 64) // ehsize
	binary.LittleEndian.PutUint16(hdr[54:], 56) // phentsize
	n := uint16(0)
	if interp != "" {
		n = 1
	}
	binary.LittleEndian.PutUint16(hdr[56:], n)
	b.Write(hdr)
	if interp != "" {
		ph := make([]byte, 56)
		binary.LittleEndian.PutUint32(ph[0:], 3) // PT_INTERP
		binary.LittleEndian.PutUint64(ph[8:], 64+56)
		binary.LittleEndian.PutUint64(ph[32:], uint64(len(interp)+1))
		b.Write(ph)
		b.WriteString(interp + "\x00")
	}
	b.WriteString(strings.Repeat("\x00", 64))
	return b.String()
}

// Debian returns a small Debian-like base layer: os-release, passwd, group,
// shadow, a shell, a dynamic loader and the usual merged-/usr symlinks.
func Debian() []File {
	return []File{
		Dir("/etc"), Dir("/usr"), Dir("/usr/bin"), Dir("/usr/lib"), Dir("/usr/lib64"), Dir("/tmp"),
		Symlink("/bin", "usr/bin"), Symlink("/lib64", "usr/lib64"),
		Text("/usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n"),
		Symlink("/etc/os-release", "../usr/lib/os-release"),
		Text("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:10001:10001::/home/app:/usr/sbin/nologin\n"),
		Text("/etc/group", "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\napp:x:10001:\n"),
		{Path: "/etc/shadow", Content: "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\napp:!:19000::::::\n", Mode: 0o640},
		Exec("/usr/lib64/ld-linux-x86-64.so.2", ELF(62, "")),
		Exec("/usr/bin/dash", ELF(62, "/lib64/ld-linux-x86-64.so.2")),
		Symlink("/usr/bin/sh", "dash"),
		Text("/var/lib/dpkg/status", "Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\nArchitecture: amd64\n\nPackage: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nDescription: GNU C Library\n multi-line\n\n"),
	}
}
