package vulndb

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress is told how far a long operation is: what it works on, and done
// out of total units (total <= 0 when unknown).
type Progress func(label string, done, total int64)

// TermProgress returns a Progress that redraws one status line on w (meant
// for a terminal) at most ten times a second, and a function that clears it.
func TermProgress(w io.Writer) (Progress, func()) {
	var mu sync.Mutex
	var last time.Time
	drawn := false
	p := func(label string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 100*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		drawn = true
		if total > 0 {
			fmt.Fprintf(w, "\r\x1b[K%s: %d/%d (%d%%)", label, done, total, done*100/total)
		} else {
			fmt.Fprintf(w, "\r\x1b[K%s: %d", label, done)
		}
	}
	clear := func() {
		mu.Lock()
		defer mu.Unlock()
		if drawn {
			fmt.Fprint(w, "\r\x1b[K")
			drawn = false
		}
	}
	return p, clear
}
