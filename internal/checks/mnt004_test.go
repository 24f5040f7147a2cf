package checks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// realEOL loads the endoflife.date data beside the repository (464 products).
func realEOL(t *testing.T) *eol.DB {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "data", "eol")
	if _, err := os.Stat(filepath.Join(dir, "nodejs.json")); err != nil {
		t.Skipf("real end-of-life data not found: %v", err)
	}
	db, err := eol.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// judgeAt judges spec at a given day with the real end-of-life data.
func judgeAt(t *testing.T, spec imagetest.Spec, at time.Time, db *eol.DB) *report.Report {
	t.Helper()
	spec.Created = at.AddDate(0, 0, -2)
	img := imagetest.Image(t, spec)
	input := imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/app:1.4.2")
	opened, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	e, err := engine.New(engine.Deps{SkipVulns: true, EOL: db})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Scan(context.Background(), opened, engine.ObserveOptions{NoCache: true, SkipSupply: true}, nil, at)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func dpkgStatus(pkgs ...[2]string) string {
	var b strings.Builder
	for _, p := range pkgs {
		b.WriteString("Package: " + p[0] + "\nStatus: install ok installed\nVersion: " + p[1] + "\nArchitecture: amd64\n\n")
	}
	return b.String()
}

// TestMNT004RuntimesFromOSPackages is issue 15 item 4: nodejs 18.20.4 from
// Debian bookworm was skipped with "no runtime with a known version found".
// Runtimes installed as OS packages are judged by their upstream end of
// life, and the finding says whether the distribution still patches them.
func TestMNT004RuntimesFromOSPackages(t *testing.T) {
	db := realEOL(t)
	bookworm := dpkgStatus(
		[2]string{"dash", "0.5.12-2"},
		[2]string{"libnode108", "18.20.4+dfsg-1~deb12u1"},
		[2]string{"nodejs", "18.20.4+dfsg-1~deb12u1"},
		[2]string{"python3.11-minimal", "3.11.2-6+deb12u3"},
		[2]string{"python3.11", "3.11.2-6+deb12u3"},
		[2]string{"python3", "3.11.2-1+b1"},
		[2]string{"python3-yaml", "6.0-3+b2"},
		[2]string{"openjdk-17-jre-headless", "17.0.12+7-2~deb12u1"},
		[2]string{"postgresql-15", "15.8-0+deb12u1"},
		[2]string{"ruby3.1", "3.1.2-7+deb12u1"},
		[2]string{"ruby", "1:3.1"},
		[2]string{"nginx", "1.22.1-9+deb12u1"},
	)
	spec := base([]imagetest.File{imagetest.Text("/var/lib/dpkg/status", bookworm)})
	spec.Config.User = "app"

	// While bookworm is in regular support.
	day := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	r := expect(t, judgeAt(t, spec, day, db), "MNT-004", checks.Fail,
		"Node.js 18.20.4 (Debian package nodejs) reached its upstream end of life on 2025-04-30; Debian 12 (bookworm) still patches it while it is supported (security support until 2026-07-11)")
	titles := map[string]checks.Finding{}
	for _, f := range r.Findings {
		titles[strings.SplitN(f.Title, " ", 2)[0]] = f
	}
	if f := titles["Node.js"]; f.Severity != checks.Medium {
		t.Errorf("node 18 patched by Debian is medium, not %s", f.Severity)
	}
	for _, f := range r.Findings {
		for _, bad := range []string{"python3-yaml", "libnode108", "OpenJDK"} {
			if strings.Contains(f.Title, bad) {
				t.Errorf("not a finding (a library, or a runtime still supported upstream): %s", f.Title)
			}
		}
	}
	// Ruby 3.1 (EOL 2025-03-31), PostgreSQL 15 (supported until 2027) and nginx 1.22 (EOL 2023).
	if f, ok := titles["Ruby"]; !ok || !strings.Contains(f.Title, "Ruby 3.1.2 (Debian package ruby3.1)") || f.Severity != checks.Medium {
		t.Errorf("ruby3.1: %+v", f)
	}
	if _, ok := titles["PostgreSQL"]; ok {
		t.Errorf("PostgreSQL 15 is supported upstream in 2025: %+v", titles["PostgreSQL"])
	}
	if f, ok := titles["nginx"]; !ok || !strings.Contains(f.Title, "nginx 1.22.1") {
		t.Errorf("nginx 1.22: %+v", r.Findings)
	}
	ev := map[string]string{}
	for _, e := range titles["Node.js"].Evidence {
		ev[e.Field] = e.Value
		if e.Field == "package" && (e.Path != "/var/lib/dpkg/status" || e.Layer == nil || *e.Layer != 1) {
			t.Errorf("package evidence %+v", e)
		}
	}
	if ev["upstream end of life"] != "2025-04-30 (nodejs 18)" || !strings.Contains(ev["distribution support"], "Debian 12 (bookworm): security support until 2026-07-11, LTS until 2028-06-30") {
		t.Errorf("evidence %v", ev)
	}

	// In bookworm's LTS only, still medium, saying so; python 3.11 and
	// OpenJDK 17 are still supported upstream in 2026.
	day = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	r = expect(t, judgeAt(t, spec, day, db), "MNT-004", checks.Fail, "Node.js 18.20.4 (Debian package nodejs) reached its upstream end of life on 2025-04-30; only Debian 12 (bookworm)'s LTS still patches it, until 2028-06-30")
	for _, f := range r.Findings {
		if strings.Contains(f.Title, "Python") || strings.Contains(f.Title, "OpenJDK") {
			t.Errorf("supported upstream: %s", f.Title)
		}
	}

	// Node 12 on bullseye after bullseye's LTS: nobody patches it, high.
	bullseye := base([]imagetest.File{
		imagetest.Text("/usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\nID=debian\n"),
		imagetest.Text("/var/lib/dpkg/status", dpkgStatus([2]string{"nodejs", "12.22.12~dfsg-1~deb11u4"})),
	})
	r = expect(t, judgeAt(t, bullseye, day, db), "MNT-004", checks.Fail, "Node.js 12.22.12 (Debian package nodejs) reached its upstream end of life on 2022-04-30; Debian 11 (bullseye) itself reached end of life on 2024-08-14: nobody patches it")
	if r.Findings[0].Severity != checks.High {
		t.Errorf("unpatched node 12 is high: %+v", r.Findings[0])
	}
}

func TestUpstreamVersionOfOSPackages(t *testing.T) {
	db := realEOL(t)
	alpine := []imagetest.File{
		imagetest.Dir("/etc"), imagetest.Dir("/lib/apk/db"),
		imagetest.Text("/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.16.9\nPRETTY_NAME=\"Alpine Linux v3.16\"\n"),
		imagetest.Text("/lib/apk/db/installed", "P:nodejs\nV:16.20.2-r0\nA:x86_64\n\nP:php81\nV:8.1.29-r0\nA:x86_64\n\n"),
	}
	spec := imagetest.Spec{Layers: [][]imagetest.File{alpine}}
	spec.Config.User = "65534"
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	r := expect(t, judgeAt(t, spec, day, db), "MNT-004", checks.Fail,
		"Node.js 16.20.2 (Alpine package nodejs) reached its upstream end of life on 2023-09-11",
		"PHP 8.1.29 (Alpine package php81) reached its upstream end of life on 2025-12-31",
		"Alpine Linux 3.16 itself reached end of life on 2024-05-23: nobody patches it")
	if len(r.Findings) != 2 {
		t.Errorf("want node and php: %+v", r.Findings)
	}
}
