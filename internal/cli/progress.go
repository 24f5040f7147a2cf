package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// withProgress wraps the layers' readers so that reading shows a progress
// line on stderr, when stderr is a terminal. It returns a function that
// clears the line.
func withProgress(stderr io.Writer, layers []imagefs.Blob) func() {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || len(layers) == 0 {
		return func() {}
	}
	p := &progress{w: f, total: len(layers)}
	for i := range layers {
		open := layers[i].Open
		idx := i
		layers[i].Open = func() (io.ReadCloser, error) {
			rc, err := open()
			if err != nil {
				return nil, err
			}
			p.start(idx)
			return &progressReader{ReadCloser: rc, p: p}, nil
		}
	}
	return p.clear
}

type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	layer int
	bytes int64
	last  time.Time
}

func (p *progress) start(i int) {
	p.mu.Lock()
	p.layer = i
	p.mu.Unlock()
	p.add(0)
}

func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes += int64(n)
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\rreading layer %d/%d, %.1f MB read ", p.layer+1, p.total, float64(p.bytes)/1e6)
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

type progressReader struct {
	io.ReadCloser
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	r.p.add(n)
	return n, err
}
