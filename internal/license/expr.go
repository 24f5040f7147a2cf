package license

import (
	"strings"
)

// Expr is a parsed license expression. A leaf names one license; an inner
// node joins two expressions with AND or OR. Leaves that could not be mapped
// to the SPDX License List keep their text in Raw and have an empty License.
type Expr struct {
	// Op is "AND", "OR", or "" for a leaf. Implicit is set on an AND that the
	// text did not spell out (terms only separated by spaces).
	Op          string
	Implicit    bool
	Left, Right *Expr

	// License is the SPDX identifier of a leaf (it may end in "+"), empty when unknown.
	License string
	// Exception is the SPDX exception of "X WITH E", empty when none or unknown.
	Exception string
	// Raw is the leaf's text as written; RawException the text after WITH.
	Raw          string
	RawException string
}

// maxLen and maxDepth bound the work spent on one declared string.
const (
	maxLen   = 4096
	maxDepth = 32
)

// Known reports whether every leaf maps to the SPDX License List and every
// operator was written out, so that String is a valid SPDX expression.
func (e *Expr) Known() bool {
	if e == nil {
		return false
	}
	if e.Op == "" {
		return e.License != "" && (e.RawException == "" || e.Exception != "")
	}
	return !e.Implicit && e.Left.Known() && e.Right.Known()
}

// String writes the expression; known leaves use their SPDX identifiers and
// unknown ones their raw text.
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	if e.Op == "" {
		s := e.License
		if s == "" {
			s = e.Raw
		}
		switch {
		case e.Exception != "":
			s += " WITH " + e.Exception
		case e.RawException != "":
			s += " WITH " + e.RawException
		}
		return s
	}
	side := func(c *Expr) string {
		if e.Op == "AND" && c.Op == "OR" {
			return "(" + c.String() + ")"
		}
		return c.String()
	}
	op := " " + e.Op + " "
	if e.Implicit {
		op = " "
	}
	return side(e.Left) + op + side(e.Right)
}

// Licenses returns the SPDX identifiers of the known leaves, in order, without duplicates.
func (e *Expr) Licenses() []string {
	var out []string
	seen := map[string]bool{}
	e.walk(func(l *Expr) {
		if l.License != "" && !seen[l.License] {
			seen[l.License] = true
			out = append(out, l.License)
		}
	})
	return out
}

// Unknown returns the raw text of the leaves that could not be mapped.
func (e *Expr) Unknown() []string {
	var out []string
	e.walk(func(l *Expr) {
		if l.License == "" {
			out = append(out, l.Raw)
		} else if l.RawException != "" && l.Exception == "" {
			out = append(out, l.Raw+" with "+l.RawException)
		}
	})
	return out
}

func (e *Expr) walk(fn func(leaf *Expr)) {
	if e == nil {
		return
	}
	if e.Op == "" {
		fn(e)
		return
	}
	e.Left.walk(fn)
	e.Right.walk(fn)
}

// Denied reports whether every way of complying with the expression uses a
// license in deny: an OR is denied only when both choices are, an AND when
// either part is. A leaf is denied when its license (ignoring any WITH
// exception) is in deny; unknown leaves are not denied. Identifiers in deny
// are compared case-insensitively after normalisation.
func (e *Expr) Denied(deny []string) bool {
	set := map[string]bool{}
	for _, d := range deny {
		if n, ok := Normalize(d); ok {
			d = n
		}
		set[strings.ToLower(d)] = true
	}
	return e.denied(set)
}

func (e *Expr) denied(set map[string]bool) bool {
	if e == nil {
		return false
	}
	switch e.Op {
	case "":
		return e.License != "" && set[strings.ToLower(e.License)]
	case "OR":
		return e.Left.denied(set) && e.Right.denied(set)
	default:
		return e.Left.denied(set) || e.Right.denied(set)
	}
}

// DeniedLicenses returns the identifiers of the leaves that are in deny.
func (e *Expr) DeniedLicenses(deny []string) []string {
	var out []string
	for _, id := range e.Licenses() {
		if (&Expr{License: id}).Denied(deny) {
			out = append(out, id)
		}
	}
	return out
}

// token kinds of the lenient scanner.
const (
	tokTerm = iota
	tokAnd
	tokOr
	tokWith
	tokOpen
	tokClose
	tokCommaAnd // ", and": lower precedence than a plain "or" (Debian copyright)
	tokCommaOr
)

type token struct {
	kind int
	text string
}

// scan splits a declared string into terms, parentheses and operators. Runs
// of words that are not operators form one term ("Apache License 2.0").
// "or later" and "or any later version" stay inside the term they follow.
func scan(s string) []token {
	var toks []token
	var term []string
	flush := func() {
		if len(term) > 0 {
			toks = append(toks, token{kind: tokTerm, text: strings.Join(term, " ")})
			term = nil
		}
	}
	words := splitWords(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "(":
			flush()
			toks = append(toks, token{kind: tokOpen})
		case w == ")":
			flush()
			toks = append(toks, token{kind: tokClose})
		case w == ",":
			next := ""
			if i+1 < len(words) {
				next = strings.ToLower(words[i+1])
			}
			switch next {
			case "and":
				flush()
				toks = append(toks, token{kind: tokCommaAnd})
				i++
			case "or":
				if laterFollows(words, i+1) {
					term = append(term, ",")
					continue
				}
				flush()
				toks = append(toks, token{kind: tokCommaOr})
				i++
			default:
				term = append(term, ",")
			}
		default:
			switch strings.ToLower(w) {
			case "and", "&":
				flush()
				toks = append(toks, token{kind: tokAnd})
			case "or", "|", "/":
				if laterFollows(words, i) {
					term = append(term, w)
					continue
				}
				flush()
				toks = append(toks, token{kind: tokOr})
			case "with":
				flush()
				toks = append(toks, token{kind: tokWith})
			default:
				term = append(term, w)
			}
		}
	}
	flush()
	return toks
}

// laterFollows reports whether the word at i ("or") starts "or later",
// "or (at your option) any later version" and the like.
func laterFollows(words []string, i int) bool {
	for j := i + 1; j < len(words) && j <= i+6; j++ {
		switch strings.ToLower(words[j]) {
		case "later", "newer", "greater", "any":
			return true
		case "(", "at", "your", "option", ")":
			continue
		}
		return false
	}
	return false
}

// splitWords splits on spaces and isolates parentheses and commas.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	emit := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r':
			emit()
		case '(', ')', ',':
			emit()
			out = append(out, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	emit()
	return out
}

type parser struct {
	toks  []token
	pos   int
	depth int
	bad   bool
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

// Grammar, lowest precedence first:
//
//	commaOr  := commaAnd { ", or" commaAnd }
//	commaAnd := or { ", and" or }
//	or       := and { OR and }
//	and      := with { AND with | with }     (juxtaposition is an implicit AND)
//	with     := atom [ WITH term ]
//	atom     := term | "(" commaOr ")"
func (p *parser) commaOr() *Expr {
	l := p.commaAnd()
	for t := p.peek(); t != nil && t.kind == tokCommaOr && !p.bad; t = p.peek() {
		p.pos++
		l = &Expr{Op: "OR", Left: l, Right: p.commaAnd()}
	}
	return l
}

func (p *parser) commaAnd() *Expr {
	l := p.or()
	for t := p.peek(); t != nil && t.kind == tokCommaAnd && !p.bad; t = p.peek() {
		p.pos++
		l = &Expr{Op: "AND", Left: l, Right: p.or()}
	}
	return l
}

func (p *parser) or() *Expr {
	l := p.and()
	for t := p.peek(); t != nil && t.kind == tokOr && !p.bad; t = p.peek() {
		p.pos++
		l = &Expr{Op: "OR", Left: l, Right: p.and()}
	}
	return l
}

func (p *parser) and() *Expr {
	l := p.with()
	for t := p.peek(); t != nil && !p.bad; t = p.peek() {
		switch t.kind {
		case tokAnd:
			p.pos++
			l = &Expr{Op: "AND", Left: l, Right: p.with()}
		case tokTerm, tokOpen:
			l = &Expr{Op: "AND", Implicit: true, Left: l, Right: p.with()}
		default:
			return l
		}
	}
	return l
}

func (p *parser) with() *Expr {
	a := p.atom()
	if t := p.peek(); t != nil && t.kind == tokWith && !p.bad {
		p.pos++
		t = p.peek()
		if t == nil || t.kind != tokTerm || a == nil || a.Op != "" {
			p.bad = true
			return a
		}
		p.pos++
		a.RawException = t.text
		a.Exception = exceptionFor(a.License, t.text)
	}
	return a
}

func (p *parser) atom() *Expr {
	t := p.peek()
	if t == nil {
		p.bad = true
		return nil
	}
	switch t.kind {
	case tokTerm:
		p.pos++
		return leaf(t.text)
	case tokOpen:
		p.pos++
		p.depth++
		if p.depth > maxDepth {
			p.bad = true
			return nil
		}
		e := p.commaOr()
		p.depth--
		if t := p.peek(); t == nil || t.kind != tokClose {
			p.bad = true
			return e
		}
		p.pos++
		return e
	}
	p.bad = true
	return nil
}

// leaf resolves one term. A term that maps to a compound expression (the
// Debian "Perl" short name) becomes that subtree.
func leaf(text string) *Expr {
	id, ok := resolveTerm(text)
	if !ok {
		return juxtaposed(text)
	}
	if strings.Contains(id, " ") {
		p := &parser{toks: scan(id)}
		if e := p.commaOr(); e != nil && !p.bad && e.Known() {
			return e
		}
		return &Expr{Raw: text}
	}
	return &Expr{Raw: text, License: id}
}

// juxtaposed reads a term of several words that each name a license
// ("MIT BSD-3-Clause", as old apk L: fields have them) as an implicit AND;
// anything else stays one unknown leaf.
func juxtaposed(text string) *Expr {
	words := strings.Fields(text)
	if len(words) < 2 {
		return &Expr{Raw: text}
	}
	var e *Expr
	for _, w := range words {
		id, ok := resolveTerm(w)
		if !ok || strings.Contains(id, " ") {
			return &Expr{Raw: text}
		}
		l := &Expr{Raw: w, License: id}
		if e == nil {
			e = l
		} else {
			e = &Expr{Op: "AND", Implicit: true, Left: e, Right: l}
		}
	}
	return e
}

// Parse reads a declared license string leniently: SPDX expressions (with
// operators in any case), Debian copyright "License:" values ("GPL-2+ or
// Artistic", "AGPL-3+ with font exception", comma-separated groups) and
// free-form names. It never fails: text that cannot be read as an expression
// becomes a single unknown leaf. It returns nil for an empty string.
func Parse(s string) *Expr {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if len(s) > maxLen {
		return &Expr{Raw: s[:maxLen]}
	}
	if _, ok := resolveTerm(s); ok {
		return leaf(s)
	}
	p := &parser{toks: scan(s)}
	e := p.commaOr()
	if p.bad || e == nil || p.pos != len(p.toks) {
		return &Expr{Raw: s}
	}
	return e
}
