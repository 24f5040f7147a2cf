package analyzer

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// rpmTestdata returns go-rpmdb's directory of real RPM databases (taken from
// CentOS, Fedora, SUSE and Mariner images), from the module cache.
func rpmTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Fatalf("locating go-rpmdb: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "pkg", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("go-rpmdb's testdata: %v", err)
	}
	return dir
}

func TestRPMDatabases(t *testing.T) {
	td := rpmTestdata(t)
	cases := []struct {
		file, at   string
		pkg        string
		min        int
		wantSource string
	}{
		{"centos7-plain/Packages", "/var/lib/rpm/Packages", "bash", 100, "bash"},          // Berkeley DB
		{"sle15-bci/Packages.db", "/usr/lib/sysimage/rpm/Packages.db", "bash", 30, ""},    // NDB
		{"fedora35/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite", "bash", 100, "bash"},       // SQLite
		{"cbl-mariner-2.0/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite", "bash", 10, "bash"}, // SQLite
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(td, c.file))
			if err != nil {
				t.Fatal(err)
			}
			layer := imagetest.LayerTar([]imagetest.File{{Path: c.at, Content: string(data)}})
			blobs := []imagefs.Blob{{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil }}}
			res, inv, err := Run(context.Background(), blobs, Options{Skip: []string{"secrets"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) > 0 {
				t.Fatalf("warnings: %v", res.Warnings)
			}
			if len(inv.Packages) < c.min {
				t.Fatalf("%d packages, want at least %d", len(inv.Packages), c.min)
			}
			var found bool
			for _, p := range inv.Packages {
				if p.Ecosystem != "rpm" || p.Type != "os" || p.Version == "" || !strings.Contains(p.Version, "-") || p.Path != c.at {
					t.Fatalf("bad package %+v", p)
				}
				if p.Name == c.pkg {
					found = true
					if c.wantSource != "" && p.SourceName != c.wantSource {
						t.Errorf("%s source %q", p.Name, p.SourceName)
					}
					if len(p.Licenses) == 0 {
						t.Errorf("%s has no license", p.Name)
					}
				}
			}
			if !found {
				t.Errorf("no %s package", c.pkg)
			}
			owned := 0
			for f, owner := range inv.Owned {
				if owner == "bash" && strings.HasSuffix(f, "/bash") {
					owned++
				}
			}
			if owned == 0 {
				t.Errorf("no .../bash file owned by the bash package (%d owned files in all)", len(inv.Owned))
			}
		})
	}
}

func TestRPMCorruptDatabaseIsAWarning(t *testing.T) {
	layer := imagetest.LayerTar([]imagetest.File{imagetest.Text("/var/lib/rpm/rpmdb.sqlite", "this is not sqlite")})
	blobs := []imagefs.Blob{{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil }}}
	res, inv, err := Run(context.Background(), blobs, Options{Skip: []string{"secrets"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 0 || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0].String(), "/var/lib/rpm/rpmdb.sqlite") {
		t.Fatalf("want a warning naming the database: %v", res.Warnings)
	}
}
