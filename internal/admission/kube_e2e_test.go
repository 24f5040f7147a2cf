package admission

// The end-to-end tier: the Handler served over TLS on 127.0.0.1 and registered
// as a ValidatingWebhookConfiguration with a real kube-apiserver, driven by the
// real kubectl. Start the control plane first:
//
//	eval "$(tools/kube/control-plane.sh up)"
//	go test -run TestKube -v ./internal/admission/
//	tools/kube/control-plane.sh down
//
// Without SHIPSHAPE_KUBE_APISERVER the test is skipped, unless CI is set: then
// it fails, so that CI cannot silently stop running it.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/admission/kubetest"
)

const e2eWebhookName = "images.shipshape.dev"

// kubeEnv is kubectl against the environment's control plane, and the
// decisions the handler recorded.
type kubeEnv struct {
	*kubetest.Kubectl
	decisionMu sync.Mutex
	decisions  []Decision
}

func kubeFromEnv(t *testing.T) *kubeEnv { return &kubeEnv{Kubectl: kubetest.FromEnv(t)} }

// expectDenied wants kubectl refused by this webhook with every string of want.
func (k *kubeEnv) expectDenied(what string, want []string, stdin string, args ...string) string {
	prefix := fmt.Sprintf("admission webhook %q denied the request: shipshape:", e2eWebhookName)
	return k.Denied(what, append([]string{prefix}, want...), stdin, args...)
}

// switchView fails every lookup while fail is set.
type switchView struct {
	fail atomic.Bool
	*MemView
}

func (v *switchView) Lookup(ctx context.Context, digest string) (Approval, bool, error) {
	if v.fail.Load() {
		return Approval{}, false, errors.New("approval store unreachable")
	}
	return v.MemView.Lookup(ctx, digest)
}

// serveTLS serves h on 127.0.0.1 with a fresh CA; it returns the URL and the CA in PEM.
func serveTLS(t *testing.T, h *Handler) (string, []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shipshape e2e webhook CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12,
			Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}}}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

func TestKubeAdmission(t *testing.T) {
	k := kubeFromEnv(t)
	t.Logf("kubectl: %s", strings.TrimSpace(k.MustRun("", "version", "--output=yaml")))

	nsProd, nsWarn, nsExempt := "e2e-prod-"+k.RunID, "e2e-warn-"+k.RunID, "e2e-exempt-"+k.RunID
	view := &switchView{MemView: NewMemView(testApprovals()...)}
	cfg := Config{
		Rules:            []ModeRule{{Namespaces: []string{nsWarn}, Mode: ModeWarn}},
		ExemptNamespaces: []string{"kube-system", nsExempt},
		DashboardURL:     "https://shipshape.example",
		Deadline:         2 * time.Second,
		Now:              func() time.Time { return testNow }, // the approvals' validity is relative to it
	}
	h, err := NewHandler(cfg, view, staticResolver(testTags), RecorderFunc(func(_ context.Context, d Decision) {
		k.decisionMu.Lock()
		k.decisions = append(k.decisions, d)
		k.decisionMu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	url, caPEM := serveTLS(t, h)

	for _, ns := range []string{nsProd, nsWarn, nsExempt} {
		k.MustRun("", "create", "namespace", ns)
		k.MustRun("", "label", "namespace", ns, "shipshape-e2e="+k.RunID)
	}
	t.Cleanup(func() {
		_, _, _ = k.Run("", "delete", "validatingwebhookconfiguration", e2eWebhookName+"-"+k.RunID, "--ignore-not-found")
		for _, ns := range []string{nsProd, nsWarn, nsExempt} {
			_, _, _ = k.Run("", "delete", "namespace", ns, "--wait=false")
		}
	})

	// The registration an operator would apply (docs/admission.md), limited to
	// this run's namespaces so that nothing else on the API server is affected.
	webhook := map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1",
		"kind":       "ValidatingWebhookConfiguration",
		"metadata":   map[string]any{"name": e2eWebhookName + "-" + k.RunID},
		"webhooks": []any{map[string]any{
			"name":                    e2eWebhookName,
			"clientConfig":            map[string]any{"url": url + ValidatePath, "caBundle": base64.StdEncoding.EncodeToString(caPEM)},
			"failurePolicy":           "Fail",
			"timeoutSeconds":          5,
			"sideEffects":             "None",
			"admissionReviewVersions": []string{"v1"},
			"matchPolicy":             "Equivalent",
			"namespaceSelector":       map[string]any{"matchLabels": map[string]string{"shipshape-e2e": k.RunID}},
			"rules": []any{
				map[string]any{"apiGroups": []string{""}, "apiVersions": []string{"v1"}, "operations": []string{"CREATE", "UPDATE"},
					"resources": []string{"pods", "pods/ephemeralcontainers"}, "scope": "Namespaced"},
				map[string]any{"apiGroups": []string{"apps"}, "apiVersions": []string{"v1"}, "operations": []string{"CREATE", "UPDATE"},
					"resources": []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, "scope": "Namespaced"},
				map[string]any{"apiGroups": []string{"batch"}, "apiVersions": []string{"v1"}, "operations": []string{"CREATE", "UPDATE"},
					"resources": []string{"jobs", "cronjobs"}, "scope": "Namespaced"},
			},
		}},
	}
	k.MustRun(string(mustJSON(webhook)), "apply", "-f", "-")

	// The API server's webhook informer picks the configuration up within about
	// 2 s: wait until a probe is denied rather than sleeping blindly.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		_, errOut, err := k.Run("", "run", fmt.Sprintf("probe-%d", i), "-n", nsProd, "--image="+imgTool, "--restart=Never", "--dry-run=server")
		if err != nil && strings.Contains(errOut, "denied the request") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook never took effect: %v %s", err, errOut)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// 1. A Deployment with an approved image is accepted.
	k.Allowed("approved deployment", "", "create", "deployment", "web", "-n", nsProd, "--image="+imgWeb)

	// 2. An unapproved one is refused, with a message naming the image, its state
	//    and the failing checks, and pointing at the dashboard.
	k.expectDenied("unapproved deployment", []string{`Deployment "tool"`, `image "` + imgTool + `" is not approved`,
		"https://shipshape.example/images/" + dg("b")}, "", "create", "deployment", "tool", "-n", nsProd, "--image="+imgTool)
	k.expectDenied("pending deployment", []string{`image "` + imgNew + `" is pending`, "failing checks: SEC-001 USER is not set"},
		"", "create", "deployment", "new", "-n", nsProd, "--image="+imgNew)

	// 3. Once the view marks the approved image revoked, it is refused from then on.
	revoked := testApprovals()[0]
	revoked.State, revoked.Reason = StateRevoked, "CVE-2026-9999 in libfoo"
	view.Upsert(revoked)
	k.expectDenied("revoked image", []string{`image "` + imgWeb + `" is revoked (CVE-2026-9999 in libfoo)`},
		"", "create", "deployment", "web2", "-n", nsProd, "--image="+imgWeb)
	k.expectDenied("update of a deployment to a revoked image", []string{`image "` + imgOld + `" is revoked`},
		"", "set", "image", "deployment/web", "web="+imgOld, "-n", nsProd)
	view.Upsert(testApprovals()[0]) // approved again for the rest

	// 4. An exempt namespace is accepted.
	k.Allowed("exempt namespace", "", "create", "deployment", "tool", "-n", nsExempt, "--image="+imgTool)

	// 5. A Pod whose init container is unapproved is refused.
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "with-init", "namespace": nsProd},
		"spec": map[string]any{
			"initContainers": []any{map[string]any{"name": "setup", "image": imgTool}},
			"containers":     []any{map[string]any{"name": "web", "image": imgWeb}}}}
	k.expectDenied("unapproved init container", []string{`Pod "with-init"`, `initContainer "setup"`, imgTool},
		string(mustJSON(pod)), "create", "-f", "-")

	// A CronJob keeps its image under spec.jobTemplate.spec.template.spec.
	k.expectDenied("unapproved cronjob", []string{`CronJob "nightly"`, imgOld, "is revoked"},
		"", "create", "cronjob", "nightly", "-n", nsProd, "--image="+imgOld, "--schedule=0 3 * * *")

	// kubectl debug adds an ephemeral container (UPDATE pods/ephemeralcontainers).
	k.MustRun("", "run", "target", "-n", nsProd, "--image="+imgWeb, "--restart=Never")
	k.expectDenied("unapproved debug container", []string{`ephemeralContainer "debugger"`, imgTool},
		"", "debug", "target", "-n", nsProd, "--image="+imgTool, "--container=debugger")
	k.Allowed("approved debug container", "", "debug", "target", "-n", nsProd, "--image="+imgDebugger, "--container=debugger2")

	// 6. Warn mode allows, with a warning kubectl prints.
	out := k.Allowed("warn mode", "", "create", "deployment", "tool", "-n", nsWarn, "--image="+imgTool)
	if !strings.Contains(out, "Warning: shipshape (warn mode, would deny): image \""+imgTool+"\" is not approved") {
		t.Errorf("warn mode: kubectl shows no warning:\n%s", out)
	}
	// An approval about to expire warns in any mode.
	out = k.Allowed("expiring approval", "", "create", "deployment", "api", "-n", nsProd, "--image="+imgAPI)
	if !strings.Contains(out, "Warning: shipshape: approval of \""+imgAPI+"\" expires in") {
		t.Errorf("expiring approval: no warning:\n%s", out)
	}

	// 7. Enforce mode with a view that cannot answer denies (and warn mode warns).
	view.fail.Store(true)
	k.expectDenied("view error, enforce", []string{"approvals cannot be read (approval store unreachable)"},
		"", "create", "deployment", "web3", "-n", nsProd, "--image="+imgWeb)
	out = k.Allowed("view error, warn", "", "create", "deployment", "web3", "-n", nsWarn, "--image="+imgWeb)
	if !strings.Contains(out, "Warning: shipshape (warn mode, would deny)") {
		t.Errorf("view error in warn mode: no warning:\n%s", out)
	}
	view.fail.Store(false)

	k.decisionMu.Lock()
	defer k.decisionMu.Unlock()
	counts := map[Outcome]int{}
	for _, d := range k.decisions {
		counts[d.Outcome]++
	}
	t.Logf("decisions recorded: %v", counts)
	if counts[OutcomeDenied] < 8 || counts[OutcomeWarned] < 2 || counts[OutcomeAllowed] < 4 {
		t.Errorf("decisions recorded: %v", counts)
	}
}
