// Package secrets finds credentials and backdoor patterns in file contents.
//
// A Scanner compiles a set of gitleaks-style rules once. Scanning a file is
// one pass of a keyword automaton over its bytes; a rule's regular expression
// runs only on the lines around its keywords, so the cost is the keyword pass
// plus a little per candidate line. Entropy thresholds, per-rule and global
// allowlists (paths, regexes, stopwords) then drop the known non-secrets.
// The work per file is bounded: past a budget of regular-expression input the
// scan stops with ErrBudget.
package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// DefaultMaxFileSize is how many bytes of one file are scanned unless the
// rules say otherwise ([shipshape] maxFileSize).
const DefaultMaxFileSize = 10 << 20

// maxMaxFileSize bounds [shipshape] maxFileSize.
const maxMaxFileSize = 1 << 30

// ErrBudget says a file had so many candidate matches that the scan stopped
// early; the findings up to that point are returned.
var ErrBudget = errors.New("too many candidate matches: the secret scan of this file stopped early")

// Input is one file to scan.
type Input struct {
	// Path is the file's absolute path in the image.
	Path string
	Data []byte
	// Script says the file is a script (shell script, #! file, crontab,
	// shell start-up file): rules with scope "scripts" apply to it.
	Script bool
}

// Finding is one match. Secret and Match hold the raw text: mask them
// before they are stored or shown (Mask, MaskIn).
type Finding struct {
	RuleID string
	// Description is the rule's short name (Rule.Name).
	Description string
	Kind        string
	// Line is 1-based; 0 for a rule that matches the path alone.
	Line int
	// Start and End are byte offsets of the match in the input.
	Start, End int
	Secret     string
	Match      string

	rule int32
}

// Scanner holds compiled rules. It is safe for concurrent use.
type Scanner struct {
	rules []*Rule
	kw    *keywords
	// kwRules maps a keyword's index to the rules that use it.
	kwRules [][]int32
	// whole lists the rules without keywords: they run on every file their
	// path applies to.
	whole []int32
	// global allowlists; skipPaths are the path-only ones, checked before a
	// file is read.
	global    []*allowlist
	skipPaths []*allowlist
	// MaxFileSize is how many bytes of one file are scanned.
	MaxFileSize int64

	scratch sync.Pool
}

// Rules returns the compiled rules, in priority order.
func (s *Scanner) Rules() []*Rule { return s.rules }

// New compiles rule files into a scanner. Later files add rules and
// allowlists; a rule whose ID is already known replaces the earlier one.
func New(files ...*File) (*Scanner, error) {
	s := &Scanner{MaxFileSize: DefaultMaxFileSize}
	byID := map[string]int{}
	for fi, f := range files {
		if f.Extend.UseDefault != nil && !*f.Extend.UseDefault && fi > 0 {
			s.rules, s.global, byID = nil, nil, map[string]int{}
		}
		for _, id := range f.Extend.DisabledRules {
			if i, ok := byID[id]; ok {
				s.rules[i] = nil
				delete(byID, id)
			}
		}
		if f.Shipshape.MaxFileSize > 0 {
			s.MaxFileSize = f.Shipshape.MaxFileSize
		}
		for i := range f.Rules {
			r, err := compileRule(&f.Rules[i])
			if err != nil {
				return nil, err
			}
			if j, ok := byID[r.ID]; ok {
				s.rules[j] = r
				continue
			}
			byID[r.ID] = len(s.rules)
			s.rules = append(s.rules, r)
		}
		specs := f.Allowlists
		if f.Allowlist != nil {
			specs = append([]AllowlistSpec{*f.Allowlist}, specs...)
		}
		for i := range specs {
			al, err := compileAllowlist(fmt.Sprintf("allowlists[%d]", i), &specs[i])
			if err != nil {
				return nil, err
			}
			s.global = append(s.global, al)
		}
	}
	if s.MaxFileSize > maxMaxFileSize {
		return nil, fmt.Errorf("maxFileSize %d is over the limit of %d", s.MaxFileSize, int64(maxMaxFileSize))
	}
	kept := s.rules[:0]
	for _, r := range s.rules {
		if r != nil {
			kept = append(kept, r)
		}
	}
	s.rules = kept
	for _, al := range s.global {
		if al.pathOnly() && al.rules == nil {
			s.skipPaths = append(s.skipPaths, al)
		}
	}
	var words []string
	index := map[string]int{}
	for ri, r := range s.rules {
		if len(r.keywords) == 0 {
			s.whole = append(s.whole, int32(ri))
			continue
		}
		for _, k := range r.keywords {
			wi, ok := index[k]
			if !ok {
				wi = len(words)
				index[k] = wi
				words = append(words, k)
				s.kwRules = append(s.kwRules, nil)
			}
			if !containsInt32(s.kwRules[wi], int32(ri)) {
				s.kwRules[wi] = append(s.kwRules[wi], int32(ri))
			}
		}
	}
	kw, err := newKeywords(words)
	if err != nil {
		return nil, err
	}
	s.kw = kw
	return s, nil
}

func containsInt32(xs []int32, x int32) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// SkipPath reports whether a global allowlist drops every finding in the file
// at path, so that it need not be read at all.
func (s *Scanner) SkipPath(path string) bool {
	low := strings.ToLower(path)
	for _, al := range s.skipPaths {
		if anyPath(al.paths, path, low) {
			return true
		}
	}
	return false
}

// Window sizes: a keyword's regex runs on its line, clipped to lineBack bytes
// before and lineFwd after the keyword on long lines; a multiline rule runs
// on blockSize bytes from the start of the keyword's line.
const (
	lineBack   = 1 << 10
	lineFwd    = 4 << 10
	blockSize  = 32 << 10
	smallBlock = 4 << 10
)

// state is the per-scan scratch space.
type state struct {
	// applies caches, per rule, whether its path and scope allow it for this
	// file: 0 unknown, 1 yes, 2 no.
	applies []uint8
	// done is, per rule, the end of the last window searched.
	done     []int
	found    []Finding
	budget   int
	overflow bool
	// the line of the last keyword
	lineOK         bool
	lineLo, lineHi int
	// the path, lowercased once
	low   string
	lowOK bool
}

func (s *Scanner) getState(n int) *state {
	st, _ := s.scratch.Get().(*state)
	if st == nil {
		st = &state{}
	}
	if cap(st.applies) < len(s.rules) {
		st.applies = make([]uint8, len(s.rules))
		st.done = make([]int, len(s.rules))
	}
	st.applies = st.applies[:len(s.rules)]
	st.done = st.done[:len(s.rules)]
	clear(st.applies)
	for i := range st.done {
		st.done[i] = -1
	}
	st.found = st.found[:0]
	st.budget = 4*n + 512<<10
	st.overflow = false
	st.lineOK = false
	st.lowOK = false
	return st
}

// Scan finds every rule match in the input (up to MaxFileSize bytes of it).
// It returns ErrBudget, with the findings so far, when the file holds so many
// candidates that the bounded work per file ran out.
func (s *Scanner) Scan(in Input) ([]Finding, error) {
	data := in.Data
	if int64(len(data)) > s.MaxFileSize {
		data = data[:s.MaxFileSize]
	}
	st := s.getState(len(data))
	defer s.scratch.Put(st)

	for _, ri := range s.whole {
		if !s.applies(st, ri, &in) {
			continue
		}
		r := s.rules[ri]
		if r.re == nil {
			// A path-only rule reports the file itself.
			st.found = append(st.found, Finding{RuleID: r.ID, Description: r.Name(), Kind: r.Kind, Match: in.Path, rule: ri})
			continue
		}
		s.search(st, ri, data, 0, len(data), &in)
	}
	if len(s.kwRules) > 0 {
		s.kw.scan(data, func(word, end int) {
			if st.overflow {
				return
			}
			start := end - len(s.kw.words[word])
			for _, ri := range s.kwRules[word] {
				if !s.applies(st, ri, &in) {
					continue
				}
				s.window(st, ri, data, start, end, &in)
			}
		})
	}
	out := s.finish(st, data)
	if st.overflow {
		return out, ErrBudget
	}
	return out, nil
}

// applies decides, once per file and rule, whether the rule's scope and path
// allow it.
func (s *Scanner) applies(st *state, ri int32, in *Input) bool {
	switch st.applies[ri] {
	case 1:
		return true
	case 2:
		return false
	}
	r := s.rules[ri]
	ok := !r.Scripts || in.Script
	if !st.lowOK {
		st.low, st.lowOK = strings.ToLower(in.Path), true
	}
	low := st.low
	if ok && r.path != nil {
		ok = r.path.match(in.Path, low)
	}
	if ok {
		for _, al := range r.allow {
			if al.pathOnly() && anyPath(al.paths, in.Path, low) {
				ok = false
				break
			}
		}
	}
	if ok {
		for _, al := range s.global {
			if al.rules != nil && al.rules[r.ID] && al.pathOnly() && anyPath(al.paths, in.Path, low) {
				ok = false
				break
			}
		}
	}
	st.applies[ri] = 2
	if ok {
		st.applies[ri] = 1
	}
	return ok
}

// window runs rule ri's regex around a keyword found at data[start:end].
func (s *Scanner) window(st *state, ri int32, data []byte, start, end int, in *Input) {
	r := s.rules[ri]
	d := st.done[ri]
	ls, le := st.line(data, start, end)
	if len(r.exact) > 0 && !exactAt(data[start:end], r.exact) {
		return
	}
	if r.Multiline {
		lo := max(ls, start-lineBack)
		hi := min(len(data), lo+r.block)
		// A keyword well inside a block already searched adds nothing new
		// (a match would have to be longer than half a block).
		if d >= 0 && (start < d-r.block/2 || hi <= d) {
			return
		}
		s.search(st, ri, data, lo, hi, in)
		return
	}
	lo, hi := max(ls, start-lineBack), min(le, end+lineFwd)
	// Windows come in keyword order. One that reaches less than half a
	// window past what was searched only adds matches longer than that.
	if d >= 0 && hi-d < lineFwd/2 && (hi <= d || lo < d) {
		return
	}
	s.search(st, ri, data, lo, hi, in)
}

// exactAt says whether the keyword found is one of words, case included.
func exactAt(found []byte, words []string) bool {
	for _, w := range words {
		if string(found) == w {
			return true
		}
	}
	return false
}

// line returns the bounds of the line holding data[start:end] (without its
// newline). Keywords come in order, so the last line is cached: a long line
// is searched for its ends once, not once per keyword.
func (st *state) line(data []byte, start, end int) (int, int) {
	if st.lineOK && start >= st.lineLo && end <= st.lineHi {
		return st.lineLo, st.lineHi
	}
	lo := bytes.LastIndexByte(data[:start], '\n') + 1
	hi := bytes.IndexByte(data[end:], '\n')
	if hi < 0 {
		hi = len(data)
	} else {
		hi += end
	}
	st.lineOK, st.lineLo, st.lineHi = true, lo, hi
	return lo, hi
}

// lineStart returns the start of the line holding data[i], looking back at
// most limit bytes.
func lineStart(data []byte, i, limit int) int {
	stop := max(0, i-limit)
	for i > stop && data[i-1] != '\n' {
		i--
	}
	return i
}

// lineEnd returns the end of the line holding data[i-1] (the offset of its
// newline, or the end of data), looking forward at most limit bytes.
func lineEnd(data []byte, i, limit int) int {
	stop := min(len(data), i+limit)
	for i < stop && data[i] != '\n' {
		i++
	}
	return i
}

// search runs rule ri's regex on data[lo:hi] and records what survives the
// entropy threshold and the allowlists.
func (s *Scanner) search(st *state, ri int32, data []byte, lo, hi int, in *Input) {
	st.done[ri] = hi
	st.budget -= hi - lo
	if st.budget < 0 {
		st.overflow = true
		return
	}
	r := s.rules[ri]
	win := data[lo:hi]
	for _, m := range r.re.FindAllSubmatchIndex(win, -1) {
		ms, me := lo+m[0], lo+m[1]
		match := string(data[ms:me])
		secret := match
		if len(m) > 2 {
			if r.secretGroup > 0 {
				if a := m[2*r.secretGroup]; a >= 0 {
					secret = string(win[a:m[2*r.secretGroup+1]])
				}
			} else {
				for g := 1; 2*g < len(m); g++ {
					if a, b := m[2*g], m[2*g+1]; a >= 0 && b > a {
						secret = string(win[a:b])
						break
					}
				}
			}
		}
		if r.entropy > 0 && entropy(secret) <= r.entropy {
			continue
		}
		if s.allowed(r, in.Path, secret, match, data, ms, me) {
			continue
		}
		st.found = append(st.found, Finding{RuleID: r.ID, Description: r.Name(), Kind: r.Kind, Start: ms, End: me, Secret: secret, Match: match, rule: ri})
	}
}

// allowed applies the rule's allowlists, then the global ones.
func (s *Scanner) allowed(r *Rule, path, secret, match string, data []byte, ms, me int) bool {
	var line string
	lineOf := func() string {
		if line == "" {
			line = string(data[lineStart(data, ms, lineBack):lineEnd(data, me, lineBack)])
		}
		return line
	}
	check := func(al *allowlist) bool {
		l := ""
		if al.target == targetLine {
			l = lineOf()
		}
		return al.allows(path, secret, match, l)
	}
	for _, al := range r.allow {
		if check(al) {
			return true
		}
	}
	for _, al := range s.global {
		if al.rules != nil && !al.rules[r.ID] {
			continue
		}
		if check(al) {
			return true
		}
	}
	return false
}

// finish sorts the findings, drops duplicates (overlapping windows) and
// overlaps between rules of one kind (the earlier rule wins), and numbers
// the lines.
func (s *Scanner) finish(st *state, data []byte) []Finding {
	if len(st.found) == 0 {
		return nil
	}
	f := st.found
	sort.SliceStable(f, func(i, j int) bool {
		if f[i].Start != f[j].Start {
			return f[i].Start < f[j].Start
		}
		return f[i].rule < f[j].rule
	})
	var out []Finding
	for _, x := range f {
		if n := len(out); n > 0 && x.End > 0 {
			last := &out[n-1]
			if x.Start == last.Start && x.End == last.End && x.rule == last.rule {
				continue
			}
			if x.Start < last.End && x.Kind == last.Kind {
				if x.rule < last.rule {
					*last = x
				}
				continue
			}
		}
		out = append(out, x)
	}
	line, pos := 1, 0
	for i := range out {
		if s.rules[out[i].rule].re == nil {
			continue // a path-only rule has no line
		}
		line += countNewlines(data[pos:out[i].Start])
		pos = out[i].Start
		out[i].Line = line
	}
	return out
}

func countNewlines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
