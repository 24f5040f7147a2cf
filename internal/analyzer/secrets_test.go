package analyzer

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// layerTar writes raw tar entries (name, content) with any bytes in names.
func layerTar(t *testing.T, files map[string]string, whiteouts ...string) imagefs.Blob {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content)), Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, content)
	}
	for _, w := range whiteouts {
		i := strings.LastIndex(w, "/")
		tw.WriteHeader(&tar.Header{Name: w[:i+1] + ".wh." + w[i+1:], Typeflag: tar.TypeReg, Mode: 0o644})
	}
	tw.Close()
	data := buf.Bytes()
	return imagefs.Blob{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func walkSecrets(t *testing.T, sc *secrets.Scanner, layers ...imagefs.Blob) (*inventory.Inventory, []imagefs.Warning, error) {
	t.Helper()
	a := newSecrets(sc)
	res, err := imagefs.Walk(context.Background(), layers, []imagefs.Analyzer{a}, imagefs.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{}
	ferr := a.Finish(res.FS, inv)
	return inv, res.Warnings, ferr
}

func TestSecretsHostileFiles(t *testing.T) {
	sc, err := secrets.Default()
	if err != nil {
		t.Fatal(err)
	}
	ghp := "ghp_" + strings.Repeat("aB3dE6gH9k", 3) + "MnPqRs"
	long := strings.Repeat("x", int(sc.MaxFileSize)) + " " + ghp + "\n"
	inv, warns, ferr := walkSecrets(t, sc,
		layerTar(t, map[string]string{
			"app/evil\nname.txt": "token=" + ghp + "\n",
			"app/latin1.txt":     "caf\xe9 \xff\xfe token=" + ghp + "\n",
			"app/binary.bin":     "\x7fELF\x00\x00" + ghp,
			"app/huge.log":       long,
			"app/.env":           "DATABASE_URL=postgres://u:Pa55-w0rd-x@db/app\n",
		}),
		layerTar(t, map[string]string{"app/other": "x"}, "app/.env"),
	)
	if ferr != nil {
		t.Fatal(ferr)
	}
	got := map[string]inventory.SecretHit{}
	for _, h := range inv.Secrets.Hits {
		got[h.Path] = h
		if strings.Contains(h.Match, ghp[4:]) {
			t.Errorf("unmasked match %q", h.Match)
		}
	}
	if h, ok := got["/app/evil\nname.txt"]; !ok || h.Line != 1 || !h.Current {
		t.Errorf("file named with a newline: %+v", h)
	}
	if _, ok := got["/app/latin1.txt"]; !ok {
		t.Error("invalid UTF-8 is still text")
	}
	if _, ok := got["/app/binary.bin"]; ok {
		t.Error("a binary file is not scanned")
	}
	if _, ok := got["/app/huge.log"]; ok {
		t.Error("the token lies past the size cap")
	}
	if h := got["/app/.env"]; h.Current || h.RemovedBy != 1 || h.Layer != 0 {
		t.Errorf(".env deleted by layer 1: %+v", h)
	}
	warned := false
	for _, w := range warns {
		warned = warned || w.Path == "/app/huge.log" && strings.Contains(w.Msg, "only the first")
	}
	if !warned {
		t.Errorf("no warning names the file over the size cap: %v", warns)
	}
	if inv.Secrets.FilesScanned != 5 {
		t.Errorf("%d files scanned, want 5 text files", inv.Secrets.FilesScanned)
	}
}

func TestSecretsLyingTar(t *testing.T) {
	sc, err := secrets.Default()
	if err != nil {
		t.Fatal(err)
	}
	// A header that promises more bytes than the layer holds.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "app/a.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20})
	tw.Write([]byte("token=ghp_" + strings.Repeat("z", 36)))
	data := buf.Bytes() // truncated: no padding, no end blocks
	blob := imagefs.Blob{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	a := newSecrets(sc)
	_, err = imagefs.Walk(context.Background(), []imagefs.Blob{blob}, []imagefs.Analyzer{a}, imagefs.Limits{})
	if err == nil {
		t.Fatal("a truncated layer must be an error")
	}
	a.pool.Wait() // the queued scans end; nothing hangs
}
