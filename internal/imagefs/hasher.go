package imagefs

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// asyncHash hashes on another goroutine what is written to it, so that the
// digest of a layer costs no wall time on a machine with a second core.
// Writes copy the data into pooled chunks; at most asyncDepth chunks wait.
type asyncHash struct {
	h    hash.Hash
	ch   chan *[]byte
	done chan struct{}
	once sync.Once
}

const (
	asyncChunk = 256 << 10
	asyncDepth = 8
)

var asyncChunks = sync.Pool{New: func() any { b := make([]byte, 0, asyncChunk); return &b }}

func newAsyncHash() *asyncHash {
	a := &asyncHash{h: sha256.New(), ch: make(chan *[]byte, asyncDepth), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			a.h.Write(*b)
			*b = (*b)[:0]
			asyncChunks.Put(b)
		}
	}()
	return a
}

// Write queues a copy of p for hashing.
func (a *asyncHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		b := asyncChunks.Get().(*[]byte)
		k := min(len(p), asyncChunk)
		*b = append((*b)[:0], p[:k]...)
		a.ch <- b
		p = p[k:]
	}
	return n, nil
}

// Sum waits for every queued write and returns the digest.
func (a *asyncHash) Sum() []byte {
	a.stop()
	return a.h.Sum(nil)
}

// stop ends the hashing goroutine; it is safe to call more than once.
func (a *asyncHash) stop() {
	a.once.Do(func() { close(a.ch) })
	<-a.done
}
