package checks_test

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// TestRemediationFitsTheImage is issue 15 item 13: on a tiny image built
// FROM scratch, SEC-001 suggested `RUN useradd` (there is no useradd and no
// /etc/passwd) and MNT-006 said "CMD replaces the whole command" for an
// image with no CMD.
func TestRemediationFitsTheImage(t *testing.T) {
	static := imagetest.Exec("/app", imagetest.ELF(62, ""))
	scratch := imagetest.Spec{Layers: [][]imagetest.File{{static}}}

	t.Run("FROM scratch, no USER, no command", func(t *testing.T) {
		rep := judge(t, scratch, "")
		f := expect(t, rep, "SEC-001", checks.Fail).Findings[0]
		if !strings.Contains(f.Remediation, "USER 65532:65532") || strings.Contains(f.Remediation, "useradd -r") {
			t.Errorf("SEC-001 on scratch: %q", f.Remediation)
		}
		m := expect(t, rep, "MNT-006", checks.Pass, "no ENTRYPOINT or CMD")
		for _, f := range m.Findings {
			if strings.Contains(f.Title, "CMD replaces") {
				t.Errorf("MNT-006 on an image with no CMD: %q", f.Title)
			}
		}
	})

	t.Run("FROM scratch with ENTRYPOINT", func(t *testing.T) {
		spec := scratch
		spec.Config = v1.Config{Entrypoint: []string{"/app"}}
		expect(t, judge(t, spec, ""), "MNT-006", checks.Pass, "exec-form ENTRYPOINT: arguments can be passed")
	})

	t.Run("CMD only", func(t *testing.T) {
		spec := scratch
		spec.Config = v1.Config{Cmd: []string{"/app"}}
		expect(t, judge(t, spec, ""), "MNT-006", checks.Pass, "no ENTRYPOINT: CMD replaces the whole command")
	})

	t.Run("distroless: the existing nonroot user", func(t *testing.T) {
		spec := imagetest.Spec{Layers: [][]imagetest.File{{static,
			imagetest.Text("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
			imagetest.Text("/etc/group", "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")}}}
		f := expect(t, judge(t, spec, ""), "SEC-001", checks.Fail).Findings[0]
		if !strings.Contains(f.Remediation, "USER 65532:65532` (the image's existing user nonroot)") || strings.Contains(f.Remediation, "useradd") {
			t.Errorf("SEC-001 on distroless: %q", f.Remediation)
		}
	})

	t.Run("Debian with useradd", func(t *testing.T) {
		spec := base([]imagetest.File{imagetest.Exec("/usr/sbin/useradd", imagetest.ELF(62, "/lib64/ld-linux-x86-64.so.2"))})
		f := expect(t, judge(t, spec, ""), "SEC-001", checks.Fail).Findings[0]
		if !strings.Contains(f.Remediation, "USER 65534:65534` (the image's existing user nobody), or create a dedicated user with `RUN useradd -r -u 10001 app`") {
			t.Errorf("SEC-001 on Debian: %q", f.Remediation)
		}
	})
}
