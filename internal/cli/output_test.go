package cli

import (
	"os"
	"strings"
	"testing"
)

// -o FORMAT=FILE with a format shipshape does not know is an error (exit 2),
// not a table written under a directory named after the whole argument.
func TestOutputUnknownFormat(t *testing.T) {
	isolate(t)
	img := tinyImage(t)
	r := run(t, "check", "-o", "yaml=out/report.yaml", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, `unknown format "yaml"`) || !strings.Contains(r.stderr, "json") {
		t.Errorf("stderr does not name the format and the known ones:\n%s", r.stderr)
	}
	if _, err := os.Stat("yaml=out"); err == nil {
		t.Error("a directory named after the argument was created")
	}
	// A path that holds "=" is still a file name.
	r = run(t, "check", "-o", "./a=b.txt", img)
	wantCode(t, r, ExitPass)
	if _, err := os.Stat("a=b.txt"); err != nil {
		t.Error(err)
	}
}

// Two formats to one file are refused before anything is judged.
func TestOutputTwoFormatsOneFile(t *testing.T) {
	isolate(t)
	img := tinyImage(t)
	r := run(t, "check", "-o", "json=same.out", "-o", "sarif=./same.out", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "same.out would be written twice") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if _, err := os.Stat("same.out"); err == nil {
		t.Error("same.out was written")
	}
}

// An output that cannot be written is an input error naming the path, found
// before the image is read.
func TestOutputUnwritable(t *testing.T) {
	isolate(t)
	img := tinyImage(t)
	for _, path := range []string{"/proc/version", "/proc/self/x.json", "."} {
		r := run(t, "check", "-o", path, img)
		wantCode(t, r, ExitInput)
		if !strings.Contains(r.stderr, "--output "+path) || strings.Contains(r.stderr, "bug in shipshape") {
			t.Errorf("-o %s: stderr:\n%s", path, r.stderr)
		}
	}
	r := run(t, "diff", "-o", "/proc/version", img, img)
	wantCode(t, r, ExitInput)
}

// Several formats in one run each land in their own file.
func TestOutputSeveralFormats(t *testing.T) {
	isolate(t)
	img := tinyImage(t)
	r := run(t, "check", "-o", "json=r/a.json", "-o", "sarif=r/a.sarif", "-o", "r/a.txt", img)
	wantCode(t, r, ExitPass)
	for file, want := range map[string]string{"r/a.json": `"schema"`, "r/a.sarif": `"$schema"`, "r/a.txt": "Verdict"} {
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, does not hold %s", file, err, want)
		}
	}
}
