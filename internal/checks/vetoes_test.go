package checks_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// judgePolicy judges a built image under pol (nil: the default policy),
// without an advisory database or supply-chain lookups, so that the verdict
// is decided by what is in the image.
func judgePolicy(t *testing.T, spec imagetest.Spec, pol *policy.Policy) *report.Report {
	t.Helper()
	if spec.Created.IsZero() {
		spec.Created = now.AddDate(0, 0, -2)
	}
	img := imagetest.Image(t, spec)
	input := imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/app:1.4.2")
	opened, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	e, err := engine.New(engine.Deps{SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Scan(context.Background(), opened, engine.ObserveOptions{NoCache: true, SkipSupply: true}, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func randomOf(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// vetoIDs lists the check IDs of the verdict's vetoes, in report order.
func vetoIDs(rep *report.Report) []string {
	var ids []string
	for _, f := range rep.Verdict.Vetoes {
		ids = append(ids, f.CheckID)
	}
	return ids
}

// TestDefaultPolicyVetoesLeaksAndBrokenEntrypoints is issue 15 item 2: an
// image with an AWS key pair and USER 1000 passed the default policy, and
// so did one whose ENTRYPOINT does not exist. Leaked credentials (also
// deleted but recoverable), backdoor indicators and an entrypoint that
// cannot run are vetoes now; a policy can turn each off like any veto; the
// checklist's own vetoes stay first in the report.
func TestDefaultPolicyVetoesLeaksAndBrokenEntrypoints(t *testing.T) {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	awsCreds := "[default]\naws_access_key_id = AKIA" + randomOf("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) +
		"\naws_secret_access_key = " + randomOf(alnum+"/+", 40) + "\n"
	ghp := "ghp_" + randomOf(alnum, 36)
	clean := func() imagetest.Spec {
		s := base()
		s.Config.User = "1000"
		return s
	}

	if rep := judgePolicy(t, clean(), nil); !rep.Verdict.Pass {
		t.Fatalf("the clean image must pass the default policy: vetoes %+v failing %+v", rep.Verdict.Vetoes, rep.Verdict.Failing)
	}

	cases := []struct {
		name  string
		spec  func() imagetest.Spec
		vetos []string
	}{
		{"AWS key pair", func() imagetest.Spec {
			s := clean()
			s.Layers = append(s.Layers, []imagetest.File{imagetest.Text("/app/.aws/credentials", awsCreds)})
			return s
		}, []string{"CMP-004"}},
		{"AWS key pair deleted by a later layer", func() imagetest.Spec {
			s := clean()
			s.Layers = append(s.Layers, []imagetest.File{imagetest.Text("/app/.aws/credentials", awsCreds)},
				[]imagetest.File{imagetest.Whiteout("/app/.aws/credentials")})
			return s
		}, []string{"CMP-004"}},
		{"token in ENV", func() imagetest.Spec {
			s := clean()
			s.Config.Env = append(s.Config.Env, "GH_TOKEN="+ghp)
			return s
		}, []string{"CMP-005"}},
		{"ENTRYPOINT missing", func() imagetest.Spec {
			s := clean()
			s.Config.Entrypoint = []string{"/app/missing"}
			return s
		}, []string{"REL-004"}},
		{"authorized_keys", func() imagetest.Spec {
			s := clean()
			s.Layers = append(s.Layers, []imagetest.File{imagetest.Text("/home/app/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@laptop\n")})
			return s
		}, []string{"CMP-007"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := judgePolicy(t, c.spec(), nil)
			if rep.Verdict.Pass {
				t.Fatalf("the default policy passes it")
			}
			got := map[string]bool{}
			for _, id := range vetoIDs(rep) {
				got[id] = true
			}
			for _, id := range c.vetos {
				if !got[id] {
					t.Errorf("no %s veto; vetoes %v", id, vetoIDs(rep))
				}
			}
			if len(got) != len(c.vetos) {
				t.Errorf("vetoes %v, want only %v", vetoIDs(rep), c.vetos)
			}

			// Configurable like any veto: `checks: {ID: {veto: false}}`.
			yaml := "checks:\n"
			for _, id := range c.vetos {
				yaml += "  " + id + ": {veto: false}\n"
			}
			pol, err := policy.Parse("policy.yaml", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			rep = judgePolicy(t, c.spec(), pol)
			if !rep.Verdict.Pass {
				t.Errorf("with the vetoes turned off: vetoes %v", vetoIDs(rep))
			}
			for _, id := range c.vetos {
				r := result(t, rep, id)
				if r.Status != checks.Fail || r.Findings[0].Severity != checks.Critical {
					t.Errorf("%s is still reported as critical without the veto: %+v", id, r)
				}
			}
		})
	}

	// The checklist's vetoes come first: root (SEC-001) ahead of a leaked
	// key (CMP-004) and a missing entrypoint (REL-004), whatever the IDs sort to.
	s := clean()
	s.Config.User = ""
	s.Config.Entrypoint = []string{"/app/missing"}
	s.Layers = append(s.Layers, []imagetest.File{imagetest.Text("/app/.aws/credentials", awsCreds)})
	ids := vetoIDs(judgePolicy(t, s, nil))
	if len(ids) != 3 || ids[0] != "SEC-001" {
		t.Errorf("vetoes in report order %v, want SEC-001 first, then CMP-004 and REL-004", ids)
	}
}
