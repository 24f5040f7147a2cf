package checks_test

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// TestSudoInRunIsACommandNotAPackage is issue 15 item 12: MNT-008 said "sudo
// used in RUN" for a RUN that only installs the sudo package. The RUN line is
// parsed as the shell parses it: sudo must be a command word.
func TestSudoInRunIsACommandNotAPackage(t *testing.T) {
	for _, c := range []struct {
		run  string
		sudo bool
	}{
		{"apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/*", false},
		{"echo 'app ALL=(ALL) ALL' > /etc/sudoers.d/app && chmod 0440 /etc/sudoers.d/app", false},
		{"sudo apt-get install -y curl && rm -rf /var/lib/apt/lists/*", true},
		{"cd /src && make && sudo make install", true},
		{"su app -c 'true' || /usr/bin/sudo -u app true", true},
		{`bash -c "sudo -u app ./setup.sh"`, true},
	} {
		t.Run(c.run, func(t *testing.T) {
			spec := base()
			spec.History = []v1.History{{CreatedBy: "RUN /bin/sh -c " + c.run + " # buildkit"}}
			rep := judge(t, spec, "")
			got := false
			for _, f := range result(t, rep, "MNT-008").Findings {
				got = got || strings.Contains(f.Title, "sudo used in RUN")
			}
			if got != c.sudo {
				t.Errorf("sudo used in RUN: %v, want %v", got, c.sudo)
			}
		})
	}
}

// TestSSHServerIsFlagged is issue 15 item 12: `EXPOSE 22` or sshd as the
// command was not flagged. CMP-007 reports both, high and not a veto.
func TestSSHServerIsFlagged(t *testing.T) {
	sshd := imagetest.Exec("/usr/sbin/sshd", imagetest.ELF(62, "/lib64/ld-linux-x86-64.so.2"))
	cases := []struct {
		name  string
		set   func(*v1.Config)
		title string
	}{
		{"EXPOSE 22", func(c *v1.Config) { c.ExposedPorts = map[string]struct{}{"22/tcp": {}, "8080/tcp": {}} }, "EXPOSE 22: the image offers SSH"},
		{"sshd as CMD", func(c *v1.Config) { c.Entrypoint, c.Cmd = nil, []string{"/usr/sbin/sshd", "-D", "-e"} }, "the container runs an SSH server"},
		{"sshd in a shell-form CMD", func(c *v1.Config) {
			c.Entrypoint, c.Cmd = nil, []string{"/bin/sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D"}
		}, "the container runs an SSH server"},
		{"sshd behind tini", func(c *v1.Config) { c.Entrypoint, c.Cmd = []string{"tini", "--"}, []string{"/usr/sbin/sshd", "-D"} }, "the container runs an SSH server"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := base([]imagetest.File{sshd})
			spec.Config.User = "app"
			c.set(&spec.Config)
			rep := judge(t, spec, "registry.example/app:1.0.0")
			r := expect(t, rep, "CMP-007", checks.Fail, c.title)
			for _, f := range r.Findings {
				if f.Severity != checks.High || f.Veto {
					t.Errorf("an SSH server is high, not a veto: %+v", f)
				}
			}
		})
	}
	spec := base([]imagetest.File{sshd})
	spec.Config.ExposedPorts = map[string]struct{}{"2222/tcp": {}, "8022/tcp": {}}
	expect(t, judge(t, spec, ""), "CMP-007", checks.Pass)
}
