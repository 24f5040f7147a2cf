package cli

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/forge/forgetest"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// labelledImage has a source label on GitHub: MNT-007 asks the forge.
func labelledImage(t *testing.T) string {
	t.Helper()
	img := serverImage(t, v1.Config{Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/shipshape-dev/webapp"}})
	return imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0")
}

func mnt007(t *testing.T, out string) (status string, titles []string) {
	t.Helper()
	rep := readReport(t, out)
	for _, r := range rep.Results {
		if r.Check.ID == "MNT-007" {
			for _, f := range r.Findings {
				titles = append(titles, f.Severity.String()+" "+f.Title)
			}
			return string(r.Status), titles
		}
	}
	t.Fatal("no MNT-007 result")
	return "", nil
}

// check asks the forge unless told not to, and names the host it contacts
// on one line of stderr; --network=none makes no connection at all.
func TestNetworkNotice(t *testing.T) {
	isolate(t)
	t.Setenv("SHIPSHAPE_OFFLINE", "")
	srv := forgetest.New(t, time.Now())
	img := labelledImage(t)
	r := run(t, "check", "--format", "json", "--forge-url", srv.URL, img)
	wantCode(t, r, ExitPass)
	host := strings.TrimSuffix(strings.TrimPrefix(srv.URL, "http://"), "/")
	notices := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "shipshape: network: contacting ") {
			notices++
			if !strings.Contains(line, host) || !strings.Contains(line, "MNT-007") {
				t.Errorf("notice %q", line)
			}
		}
	}
	if notices != 1 || len(srv.Requests()) < 2 {
		t.Errorf("%d notices for %d requests:\n%s", notices, len(srv.Requests()), r.stderr)
	}
	if st, _ := mnt007(t, r.stdout); st != "pass" {
		t.Errorf("MNT-007 %s", st)
	}

	// --network=none: no request reaches the forge (nothing is cached for
	// this cache directory), MNT-007 says it was not checked, and no notice.
	n := len(srv.Requests())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r = run(t, "check", "--format", "json", "--network", "none", "--forge-url", srv.URL, img)
	wantCode(t, r, ExitPass)
	if len(srv.Requests()) != n || strings.Contains(r.stderr, "contacting") {
		t.Errorf("--network=none: %d requests, stderr %s", len(srv.Requests())-n, r.stderr)
	}
	if st, titles := mnt007(t, r.stdout); st != "skipped" {
		t.Errorf("MNT-007 %s %q", st, titles)
	}
	if rep := readReport(t, r.stdout); !strings.Contains(strings.Join(rep.Warnings, "\n"), "--network=none") {
		t.Errorf("warnings %q", rep.Warnings)
	}
	// The environment sets it too.
	t.Setenv("SHIPSHAPE_NETWORK", "none")
	r = run(t, "check", "registry.example.com/team/app:1.0")
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "--network=none allows no connection") {
		t.Errorf("registry reference: %s", r.stderr)
	}
	t.Setenv("SHIPSHAPE_NETWORK", "")
	r = run(t, "check", "--network", "host", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "--container-network") {
		t.Errorf("--network host: %s", r.stderr)
	}
}

// In an air-gapped CI the forge cannot be reached: MNT-007 is "not
// checked", not a medium finding.
func TestUnreachableForgeNotChecked(t *testing.T) {
	isolate(t)
	t.Setenv("SHIPSHAPE_OFFLINE", "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	r := run(t, "check", "--format", "json", "--forge-url", closed, labelledImage(t))
	wantCode(t, r, ExitPass)
	st, titles := mnt007(t, r.stdout)
	if st != "skipped" || len(titles) != 0 {
		t.Errorf("MNT-007 %s %q", st, titles)
	}
	if rep := readReport(t, r.stdout); !strings.Contains(strings.Join(rep.Warnings, "\n"), "could not be reached") {
		t.Errorf("warnings %q", rep.Warnings)
	}
	// A forge that answers with an error is still a finding.
	srv := forgetest.New(t, time.Now())
	img := serverImage(t, v1.Config{Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/broken/app"}})
	r = run(t, "check", "--format", "json", "--forge-url", srv.URL, imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0"))
	if st, titles := mnt007(t, r.stdout); st != "fail" || len(titles) == 0 || !strings.HasPrefix(titles[0], "medium") {
		t.Errorf("broken forge: MNT-007 %s %q", st, titles)
	}
}
