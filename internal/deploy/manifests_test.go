package deploy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/admission"
)

// Parsed is a YAML stream of manifests read back into typed objects.
type parsed struct {
	kinds    []string
	ns       *corev1.Namespace
	secret   *corev1.Secret
	svc      *corev1.Service
	dep      *appsv1.Deployment
	pdb      *policyv1.PodDisruptionBudget
	vwc      *admissionregistrationv1.ValidatingWebhookConfiguration
	mwc      *admissionregistrationv1.MutatingWebhookConfiguration
	cmIssuer *unstructured.Unstructured
	cmCert   *unstructured.Unstructured
}

// parseStream reads every document strictly (an unknown field fails) into
// the type of its kind.
func parseStream(t *testing.T, stream []byte) parsed {
	t.Helper()
	var p parsed
	for _, doc := range strings.Split(string(stream), "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatal(err)
		}
		p.kinds = append(p.kinds, tm.Kind)
		var into any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			p.ns = &corev1.Namespace{}
			into = p.ns
		case "v1 Secret":
			p.secret = &corev1.Secret{}
			into = p.secret
		case "v1 Service":
			p.svc = &corev1.Service{}
			into = p.svc
		case "apps/v1 Deployment":
			p.dep = &appsv1.Deployment{}
			into = p.dep
		case "policy/v1 PodDisruptionBudget":
			p.pdb = &policyv1.PodDisruptionBudget{}
			into = p.pdb
		case "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration":
			p.vwc = &admissionregistrationv1.ValidatingWebhookConfiguration{}
			into = p.vwc
		case "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration":
			p.mwc = &admissionregistrationv1.MutatingWebhookConfiguration{}
			into = p.mwc
		case "cert-manager.io/v1 Issuer":
			p.cmIssuer = &unstructured.Unstructured{}
			into = &p.cmIssuer.Object
		case "cert-manager.io/v1 Certificate":
			p.cmCert = &unstructured.Unstructured{}
			into = &p.cmCert.Object
		default:
			t.Fatalf("unexpected object %s %s", tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%s: %v", tm.Kind, err)
		}
	}
	return p
}

func render(t *testing.T, o Options) parsed {
	t.Helper()
	objs, err := Manifests(o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, objs); err != nil {
		t.Fatal(err)
	}
	return parseStream(t, buf.Bytes())
}

func TestManifestsSelfSigned(t *testing.T) {
	p := render(t, Options{Namespace: "shipshape", Image: "registry.example/shipshape:1.0", WarnNamespaces: []string{"staging"}, ExemptNamespaces: []string{"monitoring"}})
	if want := []string{"Namespace", "Secret", "Service", "Deployment", "PodDisruptionBudget", "ValidatingWebhookConfiguration"}; !slices.Equal(p.kinds, want) {
		t.Fatalf("kinds %v, want %v", p.kinds, want)
	}

	// The webhook: fails closed, times out below the API server's 10 s and
	// above the handler's deadline, never calls for the exempt namespaces.
	if len(p.vwc.Webhooks) != 2 {
		t.Fatalf("webhooks: %d", len(p.vwc.Webhooks))
	}
	enforce, warn := p.vwc.Webhooks[0], p.vwc.Webhooks[1]
	if enforce.Name != WebhookName || *enforce.FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("enforcing webhook %s: failurePolicy %s", enforce.Name, *enforce.FailurePolicy)
	}
	if ts := time.Duration(*enforce.TimeoutSeconds) * time.Second; ts >= 10*time.Second || ts < admission.DefaultDeadline+time.Second {
		t.Errorf("timeoutSeconds %v: want below 10 s and at least 1 s above the handler's %v", ts, admission.DefaultDeadline)
	}
	if *enforce.SideEffects != admissionregistrationv1.SideEffectClassNone || !slices.Equal(enforce.AdmissionReviewVersions, []string{"v1"}) {
		t.Errorf("sideEffects %v, versions %v", *enforce.SideEffects, enforce.AdmissionReviewVersions)
	}
	sel := enforce.NamespaceSelector.MatchExpressions
	if len(sel) != 1 || sel[0].Key != "kubernetes.io/metadata.name" || sel[0].Operator != metav1.LabelSelectorOpNotIn ||
		!slices.Equal(sel[0].Values, []string{"kube-system", "shipshape", "monitoring", "staging"}) {
		t.Errorf("enforcing webhook's namespaceSelector %+v", sel)
	}
	if *warn.FailurePolicy != admissionregistrationv1.Ignore || warn.NamespaceSelector.MatchExpressions[0].Operator != metav1.LabelSelectorOpIn ||
		!slices.Equal(warn.NamespaceSelector.MatchExpressions[0].Values, []string{"staging"}) {
		t.Errorf("warn webhook %+v", warn)
	}
	resources := map[string]bool{}
	for _, r := range enforce.Rules {
		if !slices.Contains(r.Operations, admissionregistrationv1.Create) || !slices.Contains(r.Operations, admissionregistrationv1.Update) {
			t.Errorf("rule %+v: want CREATE and UPDATE", r)
		}
		for _, res := range r.Resources {
			resources[r.APIGroups[0]+"/"+res] = true
		}
	}
	for _, want := range []string{"/pods", "/pods/ephemeralcontainers", "apps/deployments", "apps/statefulsets", "apps/daemonsets", "apps/replicasets", "batch/jobs", "batch/cronjobs"} {
		if !resources[want] {
			t.Errorf("no rule for %s", want)
		}
	}
	cc := enforce.ClientConfig
	if cc.Service == nil || cc.Service.Name != "shipshape" || cc.Service.Namespace != "shipshape" || *cc.Service.Path != "/admission/v1/validate" || *cc.Service.Port != 443 {
		t.Errorf("clientConfig %+v", cc.Service)
	}

	// TLS: the Secret's certificate is valid for the Service's name under the caBundle.
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(cc.CABundle) {
		t.Fatal("caBundle holds no certificate")
	}
	pair, err := tls.X509KeyPair(p.secret.Data["tls.crt"], p.secret.Data["tls.key"])
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "shipshape.shipshape.svc", Roots: roots}); err != nil {
		t.Errorf("serving certificate: %v", err)
	}
	if p.secret.Type != corev1.SecretTypeTLS {
		t.Errorf("secret type %s", p.secret.Type)
	}

	// The Deployment: 2 replicas, a numeric non-root user, probes on /readyz and /healthz.
	d := p.dep
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d", *d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	psc, sc := d.Spec.Template.Spec.SecurityContext, c.SecurityContext
	if !*psc.RunAsNonRoot || *psc.RunAsUser != UID || *sc.RunAsUser == 0 || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("security context %+v %+v", psc, sc)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
		t.Errorf("probes %+v %+v", c.ReadinessProbe.HTTPGet, c.LivenessProbe.HTTPGet)
	}
	if c.Image != "registry.example/shipshape:1.0" {
		t.Errorf("image %s", c.Image)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"serve ", "--admission ", "--admission-exempt kube-system,shipshape,monitoring", "--admission-rule staging=warn", "--admission-deadline 3s", "--tls-cert /etc/shipshape/tls/tls.crt"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if p.svc.Spec.Ports[0].Port != 443 || p.svc.Spec.Ports[0].TargetPort.StrVal != "https" || c.Ports[0].Name != "https" {
		t.Errorf("service ports %+v, container ports %+v", p.svc.Spec.Ports, c.Ports)
	}
	if p.pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB %+v", p.pdb.Spec)
	}
	if p.ns.Name != "shipshape" || p.ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %+v", p.ns.ObjectMeta)
	}
}

func TestManifestsCertManager(t *testing.T) {
	p := render(t, Options{Namespace: "sec", Image: "i", CertManager: true, Mutate: true, TimeoutSeconds: 8})
	if p.secret != nil || p.cmIssuer == nil || p.cmCert == nil {
		t.Fatalf("kinds %v: want cert-manager's Issuer and Certificate and no Secret", p.kinds)
	}
	if got := p.vwc.Annotations["cert-manager.io/inject-ca-from"]; got != "sec/shipshape" {
		t.Errorf("inject-ca-from %q", got)
	}
	if len(p.vwc.Webhooks[0].ClientConfig.CABundle) != 0 {
		t.Error("caBundle set with cert-manager")
	}
	if sn, _, _ := unstructured.NestedString(p.cmCert.Object, "spec", "secretName"); sn != "shipshape-tls" {
		t.Errorf("certificate secret %q", sn)
	}
	names, _, _ := unstructured.NestedStringSlice(p.cmCert.Object, "spec", "dnsNames")
	if !slices.Contains(names, "shipshape.sec.svc") {
		t.Errorf("dnsNames %v", names)
	}
	if len(p.vwc.Webhooks) != 1 || *p.vwc.Webhooks[0].TimeoutSeconds != 8 {
		t.Errorf("webhooks %+v", p.vwc.Webhooks)
	}
	if !strings.Contains(strings.Join(p.dep.Spec.Template.Spec.Containers[0].Args, " "), "--admission-deadline 3s") {
		t.Errorf("args %v", p.dep.Spec.Template.Spec.Containers[0].Args)
	}
	m := p.mwc.Webhooks[0]
	if *m.FailurePolicy != admissionregistrationv1.Ignore || *m.ReinvocationPolicy != admissionregistrationv1.NeverReinvocationPolicy ||
		len(m.Rules) != 1 || !slices.Equal(m.Rules[0].Resources, []string{"pods"}) || *m.ClientConfig.Service.Path != "/admission/v1/mutate" {
		t.Errorf("mutating webhook %+v", m)
	}
}

func TestManifestsRefuse(t *testing.T) {
	for _, o := range []Options{
		{Image: "i"},                      // no namespace
		{Namespace: "Bad_NS", Image: "i"}, // not a DNS label
		{Namespace: "ns"},                 // no image
		{Namespace: "ns", Image: "i", TimeoutSeconds: 10},
		{Namespace: "ns", Image: "i", TimeoutSeconds: 1},
		{Namespace: "ns", Image: "i", WarnNamespaces: []string{"kube-system"}},
		{Namespace: "ns", Image: "i", Replicas: -1},
	} {
		if _, err := Manifests(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if d := handlerDeadline(2); d != time.Second {
		t.Errorf("deadline for 2 s: %v", d)
	}
}
