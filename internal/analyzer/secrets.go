package analyzer

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/secrets"
)

func defaultSecretScanner() *secrets.Scanner {
	s, err := secrets.Default()
	if err != nil {
		// The built-in rules are compiled by the tests; this cannot happen
		// in a released binary.
		panic(fmt.Sprintf("built-in secret rules: %v", err))
	}
	return s
}

// maxReportedErrors bounds the per-file problems Finish reports in its warning.
const maxReportedErrors = 20

// secretsAnalyzer reads every version of every regular file in every layer.
// Text files (no NUL in the first 8000 bytes) are scanned for secrets and
// backdoor patterns on a pool of workers while the walk goes on; every file
// is classified by name (credentials files, keys, keystores, history,
// authorized_keys, miners); setuid files and shells are hashed to spot
// setuid copies of a shell.
type secretsAnalyzer struct {
	sc   *secrets.Scanner
	pool *secrets.Pool

	mu      sync.Mutex
	hits    []inventory.SecretHit
	files   []inventory.NotableFile
	gitDirs map[string]bool
	// shells and setuid map content hashes to the versions that had them.
	shells  map[[32]byte]string
	setuid  []hashed
	errs    []string
	nerrs   int
	scanned int
	bytes   int64
}

type hashed struct {
	file inventory.NotableFile
	sum  [32]byte
}

func newSecrets(sc *secrets.Scanner) *secretsAnalyzer {
	// In flight: four files at the size cap, and at least 32 MiB.
	limit := max(4*sc.MaxFileSize, 32<<20)
	return &secretsAnalyzer{
		sc:      sc,
		pool:    secrets.NewPool(0, limit),
		gitDirs: map[string]bool{},
		shells:  map[[32]byte]string{},
	}
}

func (a *secretsAnalyzer) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool { return f.Type == imagefs.TypeRegular }}
}

func (a *secretsAnalyzer) note(f *imagefs.File, c secrets.FileClass) {
	a.mu.Lock()
	a.files = append(a.files, inventory.NotableFile{Path: f.Path, Layer: f.Layer, Kind: c.Kind, Category: c.Category, What: c.What, Size: f.Size})
	a.mu.Unlock()
}

func (a *secretsAnalyzer) Analyze(f *imagefs.File, r io.Reader) error {
	if c, ok := secrets.ClassifyPath(f.Path); ok && (c.Category == secrets.Backdoor || !inBinDir(f.Path) && !a.sc.SkipPath(f.Path)) {
		a.note(f, c)
	}
	if dir, ok := secrets.GitDir(f.Path); ok {
		key := fmt.Sprintf("%d\x00%s", f.Layer, dir)
		a.mu.Lock()
		seen := a.gitDirs[key]
		a.gitDirs[key] = true
		a.mu.Unlock()
		if !seen {
			a.note(&imagefs.File{Path: dir, Layer: f.Layer}, secrets.FileClass{Kind: "git-dir", Category: secrets.Sensitive, What: ".git directory (history, remotes, maybe credentials)"})
		}
	}
	base := path.Base(f.Path)
	setuid := f.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0
	shell := secrets.ShellNames[base] && f.IsExecutable()
	inCron := strings.HasPrefix(f.Path, "/etc/cron.") && !strings.HasPrefix(f.Path, "/etc/cron.d/") && f.IsExecutable() && base != ".placeholder"
	if inCron {
		a.note(f, secrets.FileClass{Kind: "cron-script", Category: secrets.Backdoor, What: "periodic cron job"})
	}
	var h hash.Hash
	if setuid || shell {
		h = sha256.New()
		r = io.TeeReader(r, h)
	}
	err := a.content(f, r)
	if h != nil {
		// The rest of the file goes through the TeeReader into the hash.
		if _, cerr := io.Copy(io.Discard, r); cerr != nil && err == nil {
			err = cerr
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		a.mu.Lock()
		if shell {
			a.shells[sum] = f.Path
		}
		if setuid {
			a.setuid = append(a.setuid, hashed{inventory.NotableFile{Path: f.Path, Layer: f.Layer, Size: f.Size}, sum})
		}
		a.mu.Unlock()
	}
	return err
}

// content reads a text file (up to the size cap) and queues its scan.
func (a *secretsAnalyzer) content(f *imagefs.File, r io.Reader) error {
	if f.Size == 0 {
		return nil
	}
	n := min(f.Size, a.sc.MaxFileSize)
	headLen := min(n, secrets.HeadSize)
	var head [secrets.HeadSize]byte
	if _, err := io.ReadFull(r, head[:headLen]); err != nil {
		return fmt.Errorf("reading for the secret scan: %w", err)
	}
	// Binaries first: the path allowlists cost more than a look at the head.
	if secrets.IsBinary(head[:headLen]) || a.sc.SkipPath(f.Path) {
		return nil
	}
	buf := make([]byte, n)
	copy(buf, head[:headLen])
	if _, err := io.ReadFull(r, buf[headLen:]); err != nil {
		return fmt.Errorf("reading for the secret scan: %w", err)
	}
	in := secrets.Input{Path: f.Path, Data: buf, Script: secrets.IsScript(f.Path, buf, f.IsExecutable())}
	file := *f
	a.pool.Submit(n, func() { a.scan(&file, in) })
	if f.Size > n {
		return fmt.Errorf("text file of %d bytes: only the first %d were scanned for secrets (raise [shipshape] maxFileSize in --secret-config)", f.Size, n)
	}
	return nil
}

// scan runs on a pool worker.
func (a *secretsAnalyzer) scan(f *imagefs.File, in secrets.Input) {
	var found []secrets.Finding
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("secret scanner failed: %v", p)
			}
		}()
		found, err = a.sc.Scan(in)
	}()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.scanned++
	a.bytes += int64(len(in.Data))
	if err != nil {
		a.nerrs++
		if len(a.errs) < maxReportedErrors {
			a.errs = append(a.errs, fmt.Sprintf("layer %d: %q: %v", f.Layer, f.Path, err))
		}
	}
	for _, x := range found {
		match := secrets.MaskIn(x.Match, x.Secret, 160)
		if x.Kind == secrets.KindBackdoor {
			match = secrets.MaskIn(x.Match, "", 160)
		}
		a.hits = append(a.hits, inventory.SecretHit{Rule: x.RuleID, Description: x.Description, Kind: x.Kind, Path: f.Path, Layer: f.Layer, Line: x.Line, Match: match})
	}
}

// Finish waits for the scans, then tells for every version whether it is
// still in the final filesystem and, if not, which layer removed it.
func (a *secretsAnalyzer) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.pool.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.setuid {
		shellName := secrets.ShellNames[path.Base(s.file.Path)]
		orig, sameAsShell := a.shells[s.sum]
		if !shellName && !sameAsShell {
			continue
		}
		s.file.Kind, s.file.Category = "setuid-shell", secrets.Backdoor
		s.file.What = "setuid or setgid shell"
		if sameAsShell && orig != s.file.Path {
			s.file.What = "setuid or setgid copy of the shell " + orig
		}
		a.files = append(a.files, s.file)
	}
	removed := removedBy(fsys)
	for i := range a.hits {
		h := &a.hits[i]
		h.Current, h.RemovedBy = versionState(fsys, removed, h.Path, h.Layer)
	}
	for i := range a.files {
		f := &a.files[i]
		if f.Kind == "git-dir" {
			f.Current, f.RemovedBy = dirState(fsys, removed, f.Path, f.Layer)
			continue
		}
		f.Current, f.RemovedBy = versionState(fsys, removed, f.Path, f.Layer)
	}
	sort.SliceStable(a.hits, func(i, j int) bool {
		x, y := a.hits[i], a.hits[j]
		if x.Layer != y.Layer {
			return x.Layer < y.Layer
		}
		if x.Path != y.Path {
			return x.Path < y.Path
		}
		return x.Line < y.Line
	})
	sort.SliceStable(a.files, func(i, j int) bool {
		x, y := a.files[i], a.files[j]
		if x.Layer != y.Layer {
			return x.Layer < y.Layer
		}
		return x.Path < y.Path
	})
	inv.Secrets = inventory.SecretScan{Hits: a.hits, Files: a.files, FilesScanned: a.scanned, BytesScanned: a.bytes}
	if a.nerrs > 0 {
		msg := strings.Join(a.errs, "; ")
		if a.nerrs > len(a.errs) {
			msg += fmt.Sprintf("; and %d more", a.nerrs-len(a.errs))
		}
		return errors.New(msg)
	}
	return nil
}

// inBinDir says whether p is in a directory of programs (/usr/bin/htpasswd
// is the tool, not a password file).
func inBinDir(p string) bool {
	dir := path.Dir(p)
	return strings.HasSuffix(dir, "/bin") || strings.HasSuffix(dir, "/sbin")
}

type version struct {
	path  string
	layer int
}

// removedBy maps each deleted version to the layer that deleted it.
func removedBy(fsys *imagefs.FS) map[version]int {
	out := map[version]int{}
	for _, d := range fsys.Deleted() {
		out[version{d.Path, d.Last}] = d.Layer
	}
	return out
}

// versionState says whether the version of p written by layer is current
// and, if not, which layer deleted or overwrote it.
func versionState(fsys *imagefs.FS, removed map[version]int, p string, layer int) (bool, int) {
	if fsys.IsCurrent(p, layer) {
		return true, -1
	}
	if l, ok := removed[version{p, layer}]; ok {
		return false, l
	}
	if n, ok := fsys.Lookup(p); ok {
		if n.Added > layer {
			return false, n.Added
		}
		for _, l := range n.Changed {
			if l > layer {
				return false, l
			}
		}
		return false, n.Layer
	}
	return false, -1
}

// dirState says whether the directory dir, seen in layer, is still in the
// final filesystem and, if not, which layer deleted it.
func dirState(fsys *imagefs.FS, removed map[version]int, dir string, layer int) (bool, int) {
	if n, ok := fsys.Lookup(dir); ok && n.Type == imagefs.TypeDir {
		return true, -1
	}
	by := -1
	for v, l := range removed {
		if v.path == dir && l > layer && (by < 0 || l < by) {
			by = l
		}
	}
	return false, by
}
