package checks

import (
	"reflect"
	"testing"
)

func TestShellCommandWords(t *testing.T) {
	for _, c := range []struct {
		line string
		want []string
	}{
		// bash's /dev/tcp health check: redirections are not commands, printf is a builtin.
		{`exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '`, []string{"head", "grep"}},
		// the same, as Docker's shell form of `HEALTHCHECK CMD /bin/bash -c "..."`.
		{`/bin/bash -c "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '"`, []string{"/bin/bash", "head", "grep"}},
		{`X=1 app -health && test -f /tmp/ok || exit 1`, []string{"app"}},
		{`curl -fsS http://127.0.0.1:8080/ || exit 1`, []string{"curl"}},
		{`exec /usr/local/bin/app --port "$PORT"`, []string{"/usr/local/bin/app"}},
		{`exec >/proc/1/fd/1 2>&1; exec -a myname app`, []string{"app"}},
		{`set -e; cd /app; FOO=bar BAZ="a b" exec node server.js`, []string{"node"}},
		{`if [ -f /x ]; then wget -q -O- http://x; else nc -z localhost 80; fi`, []string{"wget", "nc"}},
		{`for i in 1 2; do sleep 1; done; $CMD arg; "$(which app)" x`, []string{"sleep", "which"}},
		{`f() { helper; }; f`, []string{"helper"}},
		{`sh -c 'bash -lc "pg_isready -U postgres"'`, []string{"sh", "bash", "pg_isready"}},
		{`command -v curl >/dev/null && curl x; command gosu app run`, []string{"curl", "gosu"}},
		{`echo "a;b|c" 'd && e' | tr a b`, []string{"tr"}},
		{`app --flag=1 & wait`, []string{"app"}},
		{`ls *.txt; *.sh; ~/bin/x`, []string{"ls"}},
		{`"/usr/bin/my app" x; /usr/bin/a\ b`, []string{"/usr/bin/my app", "/usr/bin/a b"}},
		{`curl x || curl y`, []string{"curl"}},
	} {
		got, err := shellCommandWords(c.line)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.line, got, c.want)
		}
	}
	if _, err := shellCommandWords(`echo "unterminated`); err == nil {
		t.Error("a line the shell cannot parse must be an error")
	}
}

func TestShellExecsLast(t *testing.T) {
	for line, want := range map[string]bool{
		"exec /app":                 true,
		"set -e; exec /app --x":     true,
		"cd /srv && exec node a.js": true,
		"exec >/dev/null 2>&1":      false,
		"/app":                      false,
		"exec /app & wait":          false,
		"exec /app; echo done":      false,
		"exec -a name /app":         true,
		"migrate && /app":           false,
		`exec "$APP"`:               true,
		"exec":                      false,
	} {
		if got := shellExecsLast(line); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
}

// FuzzShellCommands: any input parses or errors, never panics, and every
// resolvable command word is a non-empty literal.
func FuzzShellCommands(f *testing.F) {
	for _, s := range []string{
		`exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '`,
		`sh -c 'bash -c "sh -c \"x\""'`, `a=1 b=$(c) d | e || f && g; h & i`, `case $x in a) b;; esac`,
		`exec`, `exec -a`, `command -p`, `bash -o pipefail -c`, `f() { g; }; f`, `[[ -f x ]] && y`, "a\\\nb", `$((1+2))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := shellCommandWords(line)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, w := range words {
			if w == "" || shellBuiltins[w] || seen[w] {
				t.Fatalf("%q: bad command word %q in %q", line, w, words)
			}
			seen[w] = true
		}
		_ = shellExecsLast(line)
	})
}

func TestShellScript(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
		ok   bool
	}{
		{[]string{"/bin/sh", "-c", "app"}, "app", true},
		{[]string{"/bin/bash", "-ec", "app"}, "app", true},
		{[]string{"bash", "-lc", "app", "name"}, "app", true},
		{[]string{"/bin/bash", "-o", "pipefail", "-c", "a | b"}, "a | b", true},
		{[]string{"/bin/sh", "/entrypoint.sh"}, "", false},
		{[]string{"/bin/sh", "-c"}, "", false},
		{[]string{"/app", "-c", "x"}, "", false},
		{[]string{"/bin/sh", "-e", "script.sh", "-c", "x"}, "", false},
	} {
		got, ok := shellScript(c.argv)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: got %q %v, want %q %v", c.argv, got, ok, c.want, c.ok)
		}
	}
}
