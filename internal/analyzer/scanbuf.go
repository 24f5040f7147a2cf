package analyzer

import "sync"

// scanBufCap fits the largest chunk a streaming scanner reads (1 MiB) plus
// the overlap it carries from the previous chunk.
const scanBufCap = 1<<20 + 4096

// scanBufs recycles the chunk buffers of the executable scanners: images
// hold thousands of executables, and a fresh buffer for each dominated the
// scanners' cost on small files.
var scanBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, scanBufCap)
	return &b
}}

func getScanBuf() *[]byte { return scanBufs.Get().(*[]byte) }

func putScanBuf(b *[]byte) { scanBufs.Put(b) }
