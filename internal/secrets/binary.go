package secrets

import "bytes"

// HeadSize is how much of a file IsBinary needs to see.
const HeadSize = 8000

// IsBinary reports whether a file whose first bytes are head is binary: a
// NUL byte in the first 8000 bytes, as git and grep decide. Text in any
// ASCII-compatible encoding (UTF-8, Latin-1, invalid UTF-8) counts as text.
func IsBinary(head []byte) bool {
	if len(head) > HeadSize {
		head = head[:HeadSize]
	}
	return bytes.IndexByte(head, 0) >= 0
}
