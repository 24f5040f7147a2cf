package analyzer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

const (
	headSize = 8 << 10
	// maxGoScan bounds how much of one executable is searched for Go build info.
	maxGoScan = 1 << 30
	// maxModInfo bounds the Go module info string of one binary.
	maxModInfo = 4 << 20
)

// binaries reads the head of every executable (ELF header, program
// interpreter, shebang) and streams ELF files in search of Go build info and
// the dependency list that cargo-auditable embeds in Rust binaries.
type binaries struct {
	seen map[string]*inventory.Binary
	// pkgs holds the modules and crates read from each binary's last version.
	pkgs map[string][]inventory.Package
}

func (a *binaries) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool { return f.IsExecutable() && f.Size >= 4 }}
}

func (a *binaries) Analyze(f *imagefs.File, r io.Reader) error {
	head := make([]byte, headSize)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	head = head[:n]
	b := &inventory.Binary{Path: f.Path, Layer: f.Layer, Format: "other"}
	a.seen[f.Path] = b
	delete(a.pkgs, f.Path)
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		b.Format = "script"
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		b.Shebang = strings.TrimSpace(string(line))
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		b.Format = "elf"
		b.Arch, b.Interp = parseELFHead(head)
		if f.Size <= maxGoScan {
			x, err := scanExecutable(io.MultiReader(bytes.NewReader(head), r))
			if err != nil {
				return fmt.Errorf("reading embedded build info: %w", err)
			}
			b.GoVersion = x.goVersion
			if x.goBuild != nil {
				b.GoModule = x.goBuild.Main.Path
			}
			if pkgs := append(goPackages(x.goVersion, x.goBuild), rustPackages(x.rust)...); len(pkgs) > 0 {
				if a.pkgs == nil {
					a.pkgs = map[string][]inventory.Package{}
				}
				a.pkgs[f.Path] = pkgs
			}
		}
	}
	return nil
}

func (a *binaries) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	paths := make([]string, 0, len(a.seen))
	for p := range a.seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		b := a.seen[p]
		if !fsys.IsCurrent(p, b.Layer) {
			continue
		}
		inv.Binaries[p] = b
		if v := goToolchainVersion(b.GoVersion); v != "" {
			inv.Runtimes = append(inv.Runtimes, inventory.Runtime{
				Product:  "go",
				Version:  v,
				Evidence: p + " (Go build info)",
				Path:     p,
				Layer:    b.Layer,
			})
		}
		for _, pkg := range a.pkgs[p] {
			pkg.Path, pkg.Layer = p, b.Layer
			inv.Packages = append(inv.Packages, pkg)
		}
	}
	return nil
}

var elfMachines = map[uint16]string{
	3: "386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "amd64", 183: "arm64", 243: "riscv64", 258: "loong64",
}

// parseELFHead reads the machine and the PT_INTERP path from the first bytes
// of an ELF file. It never reads past head.
func parseELFHead(head []byte) (arch, interp string) {
	if len(head) < 52 {
		return "", ""
	}
	is64 := head[4] == 2
	var bo binary.ByteOrder = binary.LittleEndian
	if head[5] == 2 {
		bo = binary.BigEndian
	}
	arch = elfMachines[bo.Uint16(head[18:20])]
	if arch == "" {
		arch = fmt.Sprintf("elf-machine-%d", bo.Uint16(head[18:20]))
	}
	if arch == "ppc64" && bo == binary.LittleEndian {
		arch = "ppc64le"
	}
	var phoff uint64
	var phentsize, phnum uint16
	if is64 {
		if len(head) < 64 {
			return arch, ""
		}
		phoff = bo.Uint64(head[32:40])
		phentsize = bo.Uint16(head[54:56])
		phnum = bo.Uint16(head[56:58])
	} else {
		phoff = uint64(bo.Uint32(head[28:32]))
		phentsize = bo.Uint16(head[42:44])
		phnum = bo.Uint16(head[44:46])
	}
	for i := uint64(0); i < uint64(phnum); i++ {
		off := phoff + i*uint64(phentsize)
		if off+uint64(phentsize) > uint64(len(head)) || phentsize < 32 {
			break
		}
		ph := head[off : off+uint64(phentsize)]
		if bo.Uint32(ph[0:4]) != 3 { // PT_INTERP
			continue
		}
		var poff, psz uint64
		if is64 {
			poff, psz = bo.Uint64(ph[8:16]), bo.Uint64(ph[32:40])
		} else {
			poff, psz = uint64(bo.Uint32(ph[4:8])), uint64(bo.Uint32(ph[16:20]))
		}
		if poff+psz <= uint64(len(head)) && psz > 0 && psz < 4096 {
			interp = string(bytes.TrimRight(head[poff:poff+psz], "\x00"))
		}
		break
	}
	return arch, interp
}

var buildInfoMagic = []byte("\xff Go buildinf:")

// scanGoBuildInfo streams r looking for the Go build info blob (Go 1.18+,
// inline strings) and returns the toolchain version and main module path.
// A binary without build info, or with the pre-1.18 pointer format, gives "".
func scanGoBuildInfo(r io.Reader) (version, module string, err error) {
	x, err := scanExecutable(r)
	if err != nil {
		return "", "", err
	}
	if x.goBuild != nil {
		module = x.goBuild.Main.Path
	}
	return x.goVersion, module, nil
}

// execInfo is what an executable embeds about how it was built.
type execInfo struct {
	// goVersion is the Go toolchain ("go1.22.3"); goBuild its module info, if any.
	goVersion string
	goBuild   *debug.BuildInfo
	// rust is the cargo-auditable dependency list, if any.
	rust *rustDeps
}

// scanOverlap is how many bytes of one chunk are carried into the next, so
// that a marker or a compressed header split across chunks is still seen.
const scanOverlap = 1024

// scanExecutable streams r once, in chunks, looking for the Go build info
// blob (16-byte aligned magic) and for cargo-auditable's zlib-compressed
// dependency JSON, and reads whichever comes first. Memory stays bounded by
// the chunk size, maxModInfo and maxRustDeps.
func scanExecutable(r io.Reader) (execInfo, error) {
	const chunk = 256 << 10
	bp := getScanBuf()
	defer putScanBuf(bp)
	buf := (*bp)[:0]
	var base int64 // file offset of buf[0]
	var probe rustProbe
	for {
		n, rerr := io.ReadFull(r, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+n]
		eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !eof {
			return execInfo{}, rerr
		}
		end := len(buf) // candidates must start before end
		if !eof {
			end = max(len(buf)-scanOverlap, 0)
		}
		gi := findGoMagic(buf, end, base)
		limit := end
		if gi >= 0 {
			limit = gi // only a Rust list before the Go magic can come first
		}
		ri := probe.find(buf, limit)
		switch {
		case gi >= 0 && ri < 0:
			ver, bi, err := readBuildInfo(io.MultiReader(bytes.NewReader(buf[gi:]), r))
			return execInfo{goVersion: ver, goBuild: bi}, err
		case ri >= 0:
			deps, err := readRustDeps(io.MultiReader(bytes.NewReader(buf[ri:]), r))
			if err != nil {
				return execInfo{}, fmt.Errorf("cargo-auditable dependency list: %w", err)
			}
			return execInfo{rust: deps}, nil
		}
		if eof {
			return execInfo{}, nil
		}
		base += int64(end)
		buf = append(buf[:0], buf[end:]...)
	}
}

// findGoMagic returns the first 16-byte aligned Go build info magic starting
// before end, or -1.
func findGoMagic(buf []byte, end int, base int64) int {
	for from := 0; from < end; {
		i := bytes.Index(buf[from:], buildInfoMagic)
		if i < 0 {
			return -1
		}
		i += from
		if i >= end {
			return -1
		}
		if (base+int64(i))%16 == 0 {
			return i
		}
		from = i + 1
	}
	return -1
}

// readBuildInfo parses the build info header at the start of r.
func readBuildInfo(r io.Reader) (string, *debug.BuildInfo, error) {
	hdr := make([]byte, 32)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return "", nil, nil
	}
	if hdr[15]&2 == 0 {
		return "", nil, nil // pre-1.18 pointer format: needs the whole file
	}
	br := &byteReader{r: r}
	ver, err := readVarString(br, 256)
	if err != nil {
		return "", nil, nil
	}
	mod, err := readVarString(br, maxModInfo)
	if err != nil {
		return ver, nil, nil
	}
	if len(mod) >= 33 && mod[len(mod)-17] == '\n' {
		mod = mod[16 : len(mod)-16]
	}
	bi, err := debug.ParseBuildInfo(mod)
	if err != nil {
		return ver, nil, nil
	}
	return ver, bi, nil
}

type byteReader struct{ r io.Reader }

func (b *byteReader) ReadByte() (byte, error) {
	var one [1]byte
	_, err := io.ReadFull(b.r, one[:])
	return one[0], err
}

func readVarString(br *byteReader, limit uint64) (string, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return "", err
	}
	if n > limit {
		return "", fmt.Errorf("string of %d bytes, over %d", n, limit)
	}
	s := make([]byte, n)
	if _, err := io.ReadFull(br.r, s); err != nil {
		return "", err
	}
	return string(s), nil
}
