package e2e

// The admission webhook of the service, end to end: the real shipshape binary
// runs `shipshape serve --admission` over TLS, registered as a
// ValidatingWebhookConfiguration with a real kube-apiserver (and etcd), and
// the real kubectl creates workloads. Images reach the webhook the way they
// do in production: submitted with `shipshape submit`, approved by the
// policy, revoked with `shipshape server revoke`, retired when new advisory
// data (`shipshape db import`) makes them fail. Start the control plane first:
//
//	eval "$(tools/kube/control-plane.sh up)"
//	go test -count=1 -run TestServeAdmission -v ./e2e/
//
// Without SHIPSHAPE_KUBE_APISERVER the test is skipped, unless CI is set:
// then it fails, so that CI cannot silently stop running it.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/admission/kubetest"
	"github.com/shipshape-dev/shipshape/internal/deploy"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

const webhookName = "images.shipshape.dev"

// kubeFromEnv is the control plane tools/kube/control-plane.sh started.
func kubeFromEnv(t *testing.T) *kubetest.Kubectl { return kubetest.FromEnv(t) }

// deployment is a Deployment of one container running image.
func deployment(name, ns, image string) string {
	labels := map[string]string{"app": name}
	return string(mustMarshal(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{"replicas": 1, "selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": image}}}}},
	}))
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// service is a running `shipshape serve`.
type service struct {
	t      *testing.T
	url    string
	env    []string
	cmd    *exec.Cmd
	mu     sync.Mutex
	logs   bytes.Buffer
	done   chan struct{}
	client *http.Client
}

func (s *service) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.Write(p)
}

func (s *service) log() string { s.mu.Lock(); defer s.mu.Unlock(); return s.logs.String() }

// startService runs shipshape serve with args on a free port over TLS and
// waits until it is ready.
func startService(t *testing.T, env []string, caPEM []byte, args ...string) *service {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	s := &service{t: t, url: "https://" + addr, env: env, done: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", addr}, args...)...)
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s, s
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("shipshape serve's log:\n%s", s.log())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := s.client.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("shipshape serve exited:\n%s", s.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("shipshape serve not ready after 60 s (%v):\n%s", err, s.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop kills the process (SIGKILL: an outage, not a shutdown).
func (s *service) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// cli runs a shipshape command against the service.
func (s *service) cli(args ...string) run {
	s.t.Helper()
	return runWith(s.t, s.env, args...)
}

// submitted is a submission's answer (submit --format json).
type submitted struct {
	Evaluation struct {
		Digest, State, Verdict string
		Failing                []string
	}
}

// submit builds spec, writes it as an OCI layout and submits it as ref.
func (s *service) submit(token string, spec imagetest.Spec, ref string, wantCode int) submitted {
	s.t.Helper()
	input := imagetest.WriteLayout(s.t, s.t.TempDir(), imagetest.Image(s.t, spec), ref)
	r := s.cli("submit", input, "--ref", ref, "--server", s.url, "--token", token, "--format", "json", "--wait", "2m")
	if r.code != wantCode {
		s.t.Fatalf("submit %s: exit %d, want %d\n%s%s", ref, r.code, wantCode, r.stdout, r.stderr)
	}
	var out submitted
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Evaluation.Digest == "" {
		s.t.Fatalf("submit %s: answer %q: %v", ref, r.stdout, err)
	}
	return out
}

// webImage is a Debian 12 image running as a user; with libssl, it has
// libssl3 3.0.11-1~deb12u1 (CVE-2023-5363, CVSS 7.5, fixed in deb12u2).
func webImage(app string, libssl bool) imagetest.Spec {
	base := imagetest.Debian()
	if libssl {
		for i, f := range base {
			if f.Path == "/var/lib/dpkg/status" {
				base[i].Content += "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
			}
		}
	}
	return imagetest.Spec{Layers: [][]imagetest.File{base, {imagetest.Text("/app/README", app)}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: "app", Labels: map[string]string{
			"org.opencontainers.image.source": "https://github.com/example/" + app, "org.opencontainers.image.version": "1.0"}}}
}

// osvRecords copies OSV records of the real Debian export into a new
// directory, for `shipshape db import`.
func osvRecords(t *testing.T, ids ...string) string { return imagetest.OSVRecords(t, "Debian", ids...) }

func TestServeAdmission(t *testing.T) {
	k := kubeFromEnv(t)
	tmp := t.TempDir()
	nsProd, nsWarn, nsExempt := "svc-prod-"+k.RunID, "svc-warn-"+k.RunID, "svc-exempt-"+k.RunID

	// TLS: a CA and a serving certificate for 127.0.0.1, as the manifests make them.
	tb, err := deploy.NewTLSBundle([]string{"127.0.0.1", "localhost"}, 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile := filepath.Join(tmp, "ca.pem"), filepath.Join(tmp, "tls.crt"), filepath.Join(tmp, "tls.key")
	for f, b := range map[string][]byte{caFile: tb.CA, certFile: tb.Cert, keyFile: tb.Key} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// The service judges vulnerabilities with the database in vdir: first
	// real records that do not concern the images (an OpenSSH advisory).
	vdir := filepath.Join(tmp, "vulndb")
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SHIPSHAPE_SKIP_VULNS=") && !strings.HasPrefix(e, "SHIPSHAPE_VULNDB_DIR=") && !strings.HasPrefix(e, "SSL_CERT_") {
			env = append(env, e)
		}
	}
	env = append(env, "SHIPSHAPE_VULNDB_DIR="+vdir, "SSL_CERT_FILE="+caFile) // the clients trust the webhook's CA
	if r := runWith(t, env, "db", "import", "--source", "Debian", osvRecords(t, "CVE-2024-6387")); r.code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	policyFile := filepath.Join(tmp, "strict.yaml")
	if err := os.WriteFile(policyFile, []byte("service:\n  graceDays: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(tmp, "shipshape.db")
	tok := runWith(t, env, "serve", "token", "create", "--db", dsn, "--name", "e2e", "--role", "admin")
	if tok.code != 0 {
		t.Fatalf("token create: exit %d\n%s", tok.code, tok.stderr)
	}
	token := strings.TrimSpace(tok.stdout)

	svc := startService(t, env, tb.CA, "--db", dsn, "--tls-cert", certFile, "--tls-key", keyFile,
		"--policy", policyFile, "--data-check", "1s", "--refresh", "1s",
		"--admission", "--admission-mode", "enforce", "--admission-resolve", "submitted",
		"--admission-exempt", "kube-system,"+nsExempt, "--admission-rule", nsWarn+"=warn",
		"--dashboard-url", "https://shipshape.example")

	// Images, submitted as CI would: two pass and are approved by the policy,
	// one runs as root and is rejected, one has a vulnerable libssl3 that the
	// current advisory data does not know about yet.
	const repo = "registry.example.com/e2e/"
	web := svc.submit(token, webImage("web", false), repo+"web:1.0", 0)
	gone := svc.submit(token, webImage("gone", false), repo+"gone:1.0", 0)
	pay := svc.submit(token, webImage("payments", true), repo+"payments:1.0", 0)
	rootSpec := webImage("root", false)
	rootSpec.Config.User = ""
	root := svc.submit(token, rootSpec, repo+"root:1.0", 1)
	for _, s := range []submitted{web, gone, pay} {
		if s.Evaluation.State != "approved" {
			t.Fatalf("submission %s: %+v, want approved", s.Evaluation.Digest, s.Evaluation)
		}
	}
	if root.Evaluation.State != "rejected" {
		t.Fatalf("root image: %+v, want rejected", root.Evaluation)
	}

	for _, ns := range []string{nsProd, nsWarn, nsExempt} {
		k.MustRun("", "create", "namespace", ns)
		k.MustRun("", "label", "namespace", ns, "shipshape-e2e="+k.RunID)
	}
	t.Cleanup(func() {
		_, _, _ = k.Run("", "delete", "validatingwebhookconfiguration", webhookName+"-"+k.RunID, "--ignore-not-found")
		for _, ns := range []string{nsProd, nsWarn, nsExempt} {
			_, _, _ = k.Run("", "delete", "namespace", ns, "--wait=false")
		}
	})

	// The registration of docs/admission.md, limited to this run's namespaces:
	// enforced namespaces with failurePolicy Fail, warn-mode ones in a second
	// webhook with Ignore (warn never blocks, not even when shipshape is down).
	rules := []any{
		map[string]any{"apiGroups": []string{""}, "apiVersions": []string{"v1"}, "operations": []string{"CREATE", "UPDATE"},
			"resources": []string{"pods", "pods/ephemeralcontainers"}, "scope": "Namespaced"},
		map[string]any{"apiGroups": []string{"apps"}, "apiVersions": []string{"v1"}, "operations": []string{"CREATE", "UPDATE"},
			"resources": []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, "scope": "Namespaced"},
		map[string]any{"apiGroups": []string{"batch"}, "apiVersions": []string{"v1"}, "operations": []string{"CREATE", "UPDATE"},
			"resources": []string{"jobs", "cronjobs"}, "scope": "Namespaced"},
	}
	hook := func(name, policy, op string, namespaces ...string) map[string]any {
		return map[string]any{
			"name":                    name,
			"clientConfig":            map[string]any{"url": svc.url + "/admission/v1/validate", "caBundle": base64.StdEncoding.EncodeToString(tb.CA)},
			"failurePolicy":           policy,
			"timeoutSeconds":          5,
			"sideEffects":             "None",
			"admissionReviewVersions": []string{"v1"},
			"matchPolicy":             "Equivalent",
			"namespaceSelector": map[string]any{
				"matchLabels":      map[string]string{"shipshape-e2e": k.RunID},
				"matchExpressions": []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": op, "values": namespaces}},
			},
			"rules": rules,
		}
	}
	k.MustRun(string(mustMarshal(map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1",
		"kind":       "ValidatingWebhookConfiguration",
		"metadata":   map[string]any{"name": webhookName + "-" + k.RunID},
		"webhooks": []any{
			hook(webhookName, "Fail", "NotIn", nsWarn, nsExempt),
			hook("warn."+webhookName, "Ignore", "In", nsWarn),
		},
	})), "apply", "-f", "-")

	// The API server picks the configuration up within about 2 s.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		_, errOut, err := k.Run("", "run", fmt.Sprintf("probe-%d", i), "-n", nsProd, "--image="+repo+"root:1.0", "--restart=Never", "--dry-run=server")
		if err != nil && strings.Contains(errOut, "denied the request") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook never took effect: %v %s", err, errOut)
		}
		time.Sleep(500 * time.Millisecond)
	}
	prefix := fmt.Sprintf("admission webhook %q denied the request: shipshape:", webhookName)

	// 1. An approved image, by tag and by digest: accepted.
	k.Allowed("approved deployment", deployment("web", nsProd, repo+"web:1.0"), "apply", "-f", "-")
	k.Allowed("approved deployment by digest", deployment("web-pinned", nsProd, repo+"web@"+web.Evaluation.Digest), "apply", "-f", "-")
	k.Allowed("approved pod", "", "run", "web-pod", "-n", nsProd, "--image="+repo+"web:1.0", "--restart=Never")

	// 2. Unapproved: refused, naming the image and its state (and the failing
	//    check of the rejected one), linking the dashboard.
	msg := k.Denied("rejected image", []string{prefix, `Deployment "root"`, `image "` + repo + `root:1.0" is rejected; failing checks: SEC-001`,
		"https://shipshape.example/images/" + root.Evaluation.Digest}, deployment("root", nsProd, repo+"root:1.0"), "apply", "-f", "-")
	if n := strings.Count(msg, "SEC-001"); n != 1 {
		t.Errorf("the failing check is named %d times, want once", n)
	}
	k.Denied("never submitted", []string{prefix, `image "` + repo + `unknown:2.0"`, "was never submitted to shipshape"},
		deployment("unknown", nsProd, repo+"unknown:2.0"), "apply", "-f", "-")

	// 3. Revoked with shipshape server revoke: refused from then on.
	k.Allowed("before the revocation", deployment("gone", nsProd, repo+"gone:1.0"), "apply", "--dry-run=server", "-f", "-")
	if r := svc.cli("server", "revoke", gone.Evaluation.Digest, "--reason", "leaked signing key", "--server", svc.url, "--token", token); r.code != 0 {
		t.Fatalf("server revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	k.Denied("revoked image", []string{prefix, `image "` + repo + `gone:1.0" is revoked (leaked signing key)`},
		deployment("gone", nsProd, repo+"gone:1.0"), "apply", "-f", "-")
	k.Denied("revoked image, bare pod", []string{prefix, `Pod "gone"`, "is revoked"}, "", "run", "gone", "-n", nsProd, "--image="+repo+"gone:1.0", "--restart=Never")

	// 4. Approved, then retired by re-evaluation: the advisory data learns of
	//    CVE-2023-5363 (shipshape db import, which the service notices within
	//    --data-check), the image now fails SEC-020 and, with graceDays 0,
	//    is retired at once.
	k.Allowed("before the advisory", deployment("payments", nsProd, repo+"payments:1.0"), "apply", "-f", "-")
	if r := runWith(t, env, "db", "import", "--source", "Debian", osvRecords(t, "CVE-2024-6387", "CVE-2023-5363", "DSA-5532-1")); r.code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	deadline = time.Now().Add(2 * time.Minute)
	for {
		r := svc.cli("server", "allowed", repo+"payments:1.0", "--server", svc.url, "--token", token)
		if r.code == 1 && strings.Contains(r.stdout, "(retired)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the vulnerable image was not retired after the advisory update: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		time.Sleep(time.Second)
	}
	k.Denied("retired image", []string{prefix, `image "` + repo + `payments:1.0" is retired`, "SEC-020"},
		deployment("payments2", nsProd, repo+"payments:1.0"), "apply", "-f", "-")
	k.Denied("retired image, scaling the existing deployment's pods", []string{prefix, "is retired"},
		"", "run", "payments-pod", "-n", nsProd, "--image="+repo+"payments:1.0", "--restart=Never")
	k.Allowed("an approved image is not affected", deployment("web2", nsProd, repo+"web:1.0"), "apply", "-f", "-")

	// 5. An exempt namespace is not judged (neither called, nor judged if it were).
	k.Allowed("exempt namespace", deployment("root", nsExempt, repo+"root:1.0"), "apply", "-f", "-")

	// 6. Warn mode: allowed, with kubectl printing the would-be denial.
	out := k.Allowed("warn mode", deployment("root", nsWarn, repo+"root:1.0"), "apply", "-f", "-")
	if !strings.Contains(out, `Warning: shipshape (warn mode, would deny): image "`+repo+`root:1.0" is rejected`) {
		t.Errorf("warn mode: kubectl shows no warning:\n%s", out)
	}

	// The decisions are counted.
	resp, err := svc.client.Get(svc.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`outcome="denied"`, `outcome="allowed"`, `outcome="warned"`, nsProd} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// 7. shipshape is down (killed): the API server cannot call it. With
	//    failurePolicy Fail enforced namespaces are refused, even an approved
	//    image; the warn-mode namespace's webhook has Ignore and admits.
	svc.stop()
	k.Denied("service down, enforce", []string{fmt.Sprintf("failed calling webhook %q", webhookName)},
		deployment("web3", nsProd, repo+"web:1.0"), "apply", "-f", "-")
	k.Allowed("service down, warn", deployment("web3", nsWarn, repo+"root:1.0"), "apply", "-f", "-")
	k.Allowed("service down, exempt", deployment("web3", nsExempt, repo+"root:1.0"), "apply", "-f", "-")
}

// `shipshape serve admission manifests` prints manifests the real API server
// accepts (kubectl apply --dry-run=server validates every object fully,
// webhook configurations included, without creating them).
func TestAdmissionManifests(t *testing.T) {
	k := kubeFromEnv(t)
	ns := "shipshape-" + k.RunID
	k.MustRun("", "create", "namespace", ns)
	t.Cleanup(func() { _, _, _ = k.Run("", "delete", "namespace", ns, "--wait=false") })
	// The API server's Pod Security admission warns about a workload that
	// would violate the restricted standard the manifests' namespace enforces.
	k.MustRun("", "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"self-signed", []string{"--warn", "staging", "--mutate"}, []string{"namespace/" + ns + " configured", "secret/shipshape-tls created",
			"service/shipshape created", "deployment.apps/shipshape created", "poddisruptionbudget.policy/shipshape created",
			"validatingwebhookconfiguration.admissionregistration.k8s.io/shipshape created",
			"mutatingwebhookconfiguration.admissionregistration.k8s.io/shipshape created"}},
		// The API server here has no cert-manager CRDs: its Issuer and
		// Certificate are left out of the dry run (the unit test parses them).
		{"cert-manager", []string{"--cert-manager", "--image", "registry.example/shipshape@sha256:" + strings.Repeat("a", 64)},
			[]string{"deployment.apps/shipshape created", "validatingwebhookconfiguration.admissionregistration.k8s.io/shipshape created"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := shipshape(t, append([]string{"serve", "admission", "manifests", "--namespace", ns}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			var docs []string
			for _, doc := range strings.Split(r.stdout, "\n---\n") {
				var tm struct{ APIVersion, Kind string }
				if err := json.Unmarshal(mustYAMLToJSON(t, doc), &tm); err != nil || tm.Kind == "" {
					t.Fatalf("not a Kubernetes object (%v):\n%s", err, doc)
				}
				if !strings.HasPrefix(tm.APIVersion, "cert-manager.io/") {
					docs = append(docs, doc)
				}
			}
			out := k.MustRun(strings.Join(docs, "\n---\n"), "apply", "--dry-run=server", "-f", "-")
			t.Logf("%s", out)
			for _, w := range tc.want {
				if !strings.Contains(out, w+" (server dry run)") {
					t.Errorf("kubectl apply --dry-run=server: no %q", w)
				}
			}
			if strings.Contains(out, "Warning: would violate PodSecurity") {
				t.Errorf("the Deployment violates the restricted Pod Security Standard:\n%s", out)
			}
		})
	}
}

func mustYAMLToJSON(t *testing.T, doc string) []byte {
	t.Helper()
	b, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
