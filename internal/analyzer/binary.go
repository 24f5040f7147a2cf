package analyzer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func init() {
	Register("binary", func() Analyzer { return &binaries{seen: map[string]*inventory.Binary{}} })
}

const (
	headSize = 8 << 10
	// maxGoScan bounds how much of one executable is searched for Go build info.
	maxGoScan = 1 << 30
	// maxModInfo bounds the Go module info string of one binary.
	maxModInfo = 4 << 20
)

// binaries reads the head of every executable (ELF header, program
// interpreter, shebang) and streams ELF files in search of Go build info.
type binaries struct {
	seen map[string]*inventory.Binary
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
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		b.Format = "script"
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		b.Shebang = strings.TrimSpace(string(line))
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		b.Format = "elf"
		b.Arch, b.Interp = parseELFHead(head)
		if f.Size <= maxGoScan {
			ver, mod, err := scanGoBuildInfo(io.MultiReader(bytes.NewReader(head), r))
			if err != nil {
				return fmt.Errorf("reading Go build info: %w", err)
			}
			b.GoVersion, b.GoModule = ver, mod
		}
	}
	return nil
}

func (a *binaries) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	for p, b := range a.seen {
		if !fsys.IsCurrent(p, b.Layer) {
			continue
		}
		inv.Binaries[p] = b
		if b.GoVersion != "" {
			inv.Runtimes = append(inv.Runtimes, inventory.Runtime{
				Product:  "go",
				Version:  strings.TrimPrefix(b.GoVersion, "go"),
				Evidence: p + " (Go build info)",
				Path:     p,
				Layer:    b.Layer,
			})
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
	const chunk = 256 << 10
	buf := make([]byte, 0, chunk+64)
	tmp := make([]byte, chunk)
	var base int64 // file offset of buf[0]
	for {
		n, rerr := io.ReadFull(r, tmp)
		buf = append(buf, tmp[:n]...)
		for from := 0; ; {
			i := bytes.Index(buf[from:], buildInfoMagic)
			if i < 0 {
				break
			}
			i += from
			if (base+int64(i))%16 == 0 {
				rest := io.MultiReader(bytes.NewReader(buf[i:]), r)
				return readBuildInfo(rest)
			}
			from = i + 1
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return "", "", nil
		}
		if rerr != nil {
			return "", "", rerr
		}
		keep := len(buildInfoMagic) - 1
		base += int64(len(buf) - keep)
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
}

// readBuildInfo parses the build info header at the start of r.
func readBuildInfo(r io.Reader) (string, string, error) {
	hdr := make([]byte, 32)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return "", "", nil
	}
	if hdr[15]&2 == 0 {
		return "", "", nil // pre-1.18 pointer format: needs the whole file
	}
	br := &byteReader{r: r}
	ver, err := readVarString(br, 256)
	if err != nil {
		return "", "", nil
	}
	mod, err := readVarString(br, maxModInfo)
	if err != nil {
		return ver, "", nil
	}
	if len(mod) >= 33 && mod[len(mod)-17] == '\n' {
		mod = mod[16 : len(mod)-16]
	}
	bi, err := debug.ParseBuildInfo(mod)
	if err != nil {
		return ver, "", nil
	}
	return ver, bi.Main.Path, nil
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
