package secrets

import "fmt"

// keywords finds many literal keywords in one pass over the bytes, ASCII
// case-insensitively. It is an Aho-Corasick automaton compiled to a dense
// DFA over byte classes: one table load per input byte, whatever the number
// of keywords. Bytes that appear in no keyword share one class, so the table
// stays small (states × classes).
type keywords struct {
	words []string
	// class maps an input byte to its column in trans.
	class [256]uint8
	nc    int
	// trans is the DFA. States are numbered by their row offset (state
	// index × nc), so the next state is trans[state+class]; a state with
	// outMark set ends at least one keyword.
	trans []int32
	// out lists, per state, the keywords that end there (suffixes included).
	out [][]int32
	// maxLen is the length of the longest keyword.
	maxLen int
}

const outMark = int32(1) << 30

// maxKeywordStates bounds the automaton (a custom config with a huge
// keyword list is refused rather than allowed to eat memory).
const maxKeywordStates = 1 << 20

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// newKeywords compiles the automaton. Empty keywords are refused.
func newKeywords(words []string) (*keywords, error) {
	k := &keywords{words: words}
	for _, w := range words {
		k.maxLen = max(k.maxLen, len(w))
	}
	// Byte classes: one per distinct (lowercased) keyword byte, 0 for the rest.
	var seen [256]bool
	for _, w := range words {
		if w == "" {
			return nil, fmt.Errorf("empty keyword")
		}
		for i := 0; i < len(w); i++ {
			seen[lower(w[i])] = true
		}
	}
	n := 1
	var classOf [256]uint8
	for b := 0; b < 256; b++ {
		if seen[b] {
			if n >= 255 {
				return nil, fmt.Errorf("keywords use too many distinct bytes")
			}
			classOf[b] = uint8(n)
			n++
		}
	}
	for b := 0; b < 256; b++ {
		k.class[b] = classOf[lower(byte(b))]
	}
	k.nc = n

	// Trie.
	type node struct {
		next map[uint8]int32
		out  []int32
		fail int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for wi, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := k.class[w[i]]
			nx, ok := nodes[s].next[c]
			if !ok {
				if len(nodes) >= maxKeywordStates {
					return nil, fmt.Errorf("keywords need more than %d automaton states", maxKeywordStates)
				}
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(wi))
	}

	// Breadth-first: failure links, merged outputs and the dense table.
	k.trans = make([]int32, len(nodes)*n)
	k.out = make([][]int32, len(nodes))
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < n; c++ {
		if nx, ok := nodes[0].next[uint8(c)]; ok && c != 0 {
			nodes[nx].fail = 0
			k.trans[c] = nx
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nodes[s].out = append(nodes[s].out, nodes[nodes[s].fail].out...)
		for c := 0; c < n; c++ {
			nx, ok := nodes[s].next[uint8(c)]
			if ok && c != 0 {
				nodes[nx].fail = k.trans[int(nodes[s].fail)*n+c] &^ outMark
				k.trans[int(s)*n+c] = nx
				queue = append(queue, nx)
			} else {
				k.trans[int(s)*n+c] = k.trans[int(nodes[s].fail)*n+c] &^ outMark
			}
		}
	}
	for s := range nodes {
		k.out[s] = nodes[s].out
	}
	// Number states by row offset and mark the ones that end keywords.
	for i, t := range k.trans {
		v := t * int32(n)
		if len(nodes[t].out) > 0 {
			v |= outMark
		}
		k.trans[i] = v
	}
	return k, nil
}

// scan calls hit for every occurrence of every keyword in data, with the
// keyword's index and the offset just past its end, in order of end offset.
//
// Large inputs are run as two interleaved streams (the first and the second
// half, the second starting maxLen-1 bytes early): the two table lookups per
// step are independent, so the CPU overlaps their latency. The second
// stream's hits are held until the first has reported all of its own.
func (k *keywords) scan(data []byte, hit func(word int, end int)) {
	if len(k.words) == 0 {
		return
	}
	if len(data) < 4096 {
		k.scan1(data, 0, hit)
		return
	}
	trans, class, nc := k.trans, &k.class, int32(k.nc)
	mid := len(data) / 2
	back := min(k.maxLen-1, mid)
	a, b := data[:mid], data[mid-back:]
	var held []int64 // word<<32 | end, for the second stream
	s1, s2 := int32(0), int32(0)
	n := len(a)
	for i := 0; i < n; i++ {
		s1 = trans[s1+int32(class[a[i]])]
		s2 = trans[s2+int32(class[b[i]])]
		if (s1|s2)&outMark != 0 {
			if s1&outMark != 0 {
				s1 &^= outMark
				for _, w := range k.out[s1/nc] {
					hit(int(w), i+1)
				}
			}
			if s2&outMark != 0 {
				s2 &^= outMark
				end := mid - back + i + 1
				if end > mid {
					for _, w := range k.out[s2/nc] {
						held = append(held, int64(w)<<32|int64(end))
					}
				}
			}
		}
	}
	for _, h := range held {
		hit(int(h>>32), int(h&0xffffffff))
	}
	// The rest of the second stream.
	for i := n; i < len(b); i++ {
		s2 = trans[s2+int32(class[b[i]])]
		if s2&outMark != 0 {
			s2 &^= outMark
			for _, w := range k.out[s2/nc] {
				hit(int(w), mid-back+i+1)
			}
		}
	}
}

// scan1 is scan as one stream, for small inputs; offsets are shifted by base.
func (k *keywords) scan1(data []byte, base int, hit func(word int, end int)) {
	trans, class, nc := k.trans, &k.class, int32(k.nc)
	s := int32(0)
	for i, b := range data {
		s = trans[s+int32(class[b])]
		if s&outMark != 0 {
			s &^= outMark
			for _, w := range k.out[s/nc] {
				hit(int(w), base+i+1)
			}
		}
	}
}
