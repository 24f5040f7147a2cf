// Package kubetest drives the real kubectl against the control plane that
// tools/kube/control-plane.sh started, for the admission tests.
package kubetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Kubectl runs kubectl against the environment's control plane.
type Kubectl struct {
	t     testing.TB
	path  string
	flags []string
	// RunID tells this run's namespaces and webhooks from earlier ones.
	RunID string
}

// FromEnv is the control plane of SHIPSHAPE_KUBE_APISERVER, _TOKEN, _CA,
// _KUBECONFIG and SHIPSHAPE_KUBECTL: its absence skips the test, or fails it
// under CI.
func FromEnv(t testing.TB) *Kubectl {
	t.Helper()
	api, token, kubectl := os.Getenv("SHIPSHAPE_KUBE_APISERVER"), os.Getenv("SHIPSHAPE_KUBE_TOKEN"), os.Getenv("SHIPSHAPE_KUBECTL")
	if api == "" || token == "" || kubectl == "" {
		msg := "SHIPSHAPE_KUBE_APISERVER, SHIPSHAPE_KUBE_TOKEN and SHIPSHAPE_KUBECTL are not set: " +
			`run eval "$(tools/kube/control-plane.sh up)" first`
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	k := &Kubectl{t: t, path: kubectl, RunID: fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000)}
	if kc := os.Getenv("SHIPSHAPE_KUBECONFIG"); kc != "" {
		k.flags = []string{"--kubeconfig", kc}
	} else {
		k.flags = []string{"--kubeconfig", os.DevNull, "--server", api, "--token", token}
		if ca := os.Getenv("SHIPSHAPE_KUBE_CA"); ca != "" {
			k.flags = append(k.flags, "--certificate-authority", ca)
		} else {
			k.flags = append(k.flags, "--insecure-skip-tls-verify")
		}
	}
	return k
}

// Run runs kubectl with stdin and returns stdout, stderr and the error.
func (k *Kubectl) Run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.path, append(append([]string{}, k.flags...), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// MustRun runs kubectl and fails the test when it fails.
func (k *Kubectl) MustRun(stdin string, args ...string) string {
	k.t.Helper()
	out, errOut, err := k.Run(stdin, args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out + errOut
}

// Allowed wants kubectl to succeed (the request admitted).
func (k *Kubectl) Allowed(what, stdin string, args ...string) string {
	k.t.Helper()
	out, errOut, err := k.Run(stdin, args...)
	if err != nil {
		k.t.Errorf("%s: want allowed, kubectl failed: %v\n%s%s", what, err, out, errOut)
	} else {
		k.t.Logf("%s: %s", what, strings.TrimSpace(out+errOut))
	}
	return out + errOut
}

// Denied wants kubectl to fail with every string of want in its error.
func (k *Kubectl) Denied(what string, want []string, stdin string, args ...string) string {
	k.t.Helper()
	out, errOut, err := k.Run(stdin, args...)
	if err == nil {
		k.t.Errorf("%s: want denied, kubectl succeeded:\n%s%s", what, out, errOut)
		return out + errOut
	}
	k.t.Logf("%s: %s", what, strings.TrimSpace(errOut))
	for _, s := range want {
		if !strings.Contains(errOut, s) {
			k.t.Errorf("%s: kubectl's error lacks %q:\n%s", what, s, errOut)
		}
	}
	return out + errOut
}
