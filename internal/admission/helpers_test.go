package admission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// The fixed clock of the unit tests.
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// dg returns a recognisable digest: sha256 of 64 copies of c.
func dg(c string) string { return "sha256:" + strings.Repeat(c, 64) }

// The images of the unit tests, by tag, and their digests.
const (
	imgWeb      = "registry.example/team/web:1.4"    // approved
	imgTool     = "registry.example/team/tool:2.0"   // no approval
	imgOld      = "registry.example/team/old:0.9"    // revoked
	imgNew      = "registry.example/team/new:3.0"    // pending, failing checks
	imgAPI      = "registry.example/team/api:5.1"    // approved, expires in 3 days
	imgMulti    = "registry.example/team/multi:1"    // an approved index
	imgLapsed   = "registry.example/team/lapsed:1"   // approved, but valid-until passed
	imgDebugger = "registry.example/tools/debug:1.0" // approved (for kubectl debug)
)

var testTags = map[string]string{
	imgWeb: dg("a"), imgTool: dg("b"), imgOld: dg("c"), imgNew: dg("d"), imgAPI: dg("e"), imgMulti: dg("f"),
	imgLapsed: dg("7"), imgDebugger: dg("8"),
}

// platformOfMulti is the linux/amd64 image of imgMulti's index.
var platformOfMulti = dg("1")

func testApprovals() []Approval {
	return []Approval{
		{Digest: dg("a"), Ref: imgWeb, State: StateApproved, Signer: "release-bot", ValidUntil: testNow.AddDate(0, 3, 0)},
		{Digest: dg("c"), Ref: imgOld, State: StateRevoked, Reason: "CVE-2026-1234 is fixable",
			FailingChecks: []string{"SEC-020 fixable critical vulnerability CVE-2026-1234"}},
		{Digest: dg("d"), Ref: imgNew, State: StatePending,
			FailingChecks: []string{"SEC-001 USER is not set", "REL-001 `latest` tag is not pinned"}},
		{Digest: dg("e"), Ref: imgAPI, State: StateExpiring, ValidUntil: testNow.Add(3*24*time.Hour + time.Hour)},
		{Digest: dg("f"), Ref: imgMulti, State: StateApproved, PlatformDigests: []string{platformOfMulti, dg("2")}},
		{Digest: dg("7"), Ref: imgLapsed, State: StateApproved, ValidUntil: testNow.Add(-time.Hour)},
		{Digest: dg("8"), Ref: imgDebugger, State: StateApproved},
	}
}

// staticResolver resolves testTags and fails on any other tag.
type staticResolver map[string]string

func (s staticResolver) Resolve(ctx context.Context, ref string) (string, error) {
	_, d, err := ParseRef(ref)
	if err != nil || d != "" {
		return d, err
	}
	if d, ok := s[ref]; ok {
		return d, nil
	}
	return "", fmt.Errorf("MANIFEST_UNKNOWN: %s", ref)
}

// testConfig: prod enforces, staging warns, sandbox audits; break-glass token "open-sesame".
func testConfig() Config {
	return Config{
		Rules: []ModeRule{
			{Namespaces: []string{"staging"}, Mode: ModeWarn},
			{Namespaces: []string{"sandbox*"}, Mode: ModeAudit},
			{ObjectSelector: "shipshape.dev/mode=warn", Mode: ModeWarn},
		},
		DashboardURL: "https://shipshape.example/",
		Now:          func() time.Time { return testNow },
	}
}

func newTestHandler(t testing.TB, mutate func(*Config), view View) *Handler {
	t.Helper()
	cfg := testConfig()
	cfg.BreakGlassTokenSHA256 = sha256Hex("open-sesame")
	if mutate != nil {
		mutate(&cfg)
	}
	if view == nil {
		view = NewMemView(testApprovals()...)
	}
	h, err := NewHandler(cfg, view, staticResolver(testTags), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// podSpec builds a pod spec: init containers, then containers ("name=image").
func podSpec(init []string, main []string) corev1.PodSpec {
	mk := func(list []string) []corev1.Container {
		var out []corev1.Container
		for _, s := range list {
			n, img, _ := strings.Cut(s, "=")
			out = append(out, corev1.Container{Name: n, Image: img,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "production"}}})
		}
		return out
	}
	return corev1.PodSpec{InitContainers: mk(init), Containers: mk(main)}
}

func template(spec corev1.PodSpec, ann map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: ann}, Spec: spec}
}

// workloadObject builds an object of kind with the given pod spec; the group and
// resource are returned for the AdmissionRequest.
func workloadObject(kind, name, ns string, spec corev1.PodSpec, labels, ann map[string]string) (runtime.Object, string, string) {
	om := metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: ann}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tm := func(group string) metav1.TypeMeta {
		v := "v1"
		if group != "" {
			v = group + "/v1"
		}
		return metav1.TypeMeta{APIVersion: v, Kind: kind}
	}
	switch kind {
	case "Pod":
		return &corev1.Pod{TypeMeta: tm(""), ObjectMeta: om, Spec: spec}, "", "pods"
	case "Deployment":
		return &appsv1.Deployment{TypeMeta: tm("apps"), ObjectMeta: om, Spec: appsv1.DeploymentSpec{Selector: sel, Template: template(spec, nil)}}, "apps", "deployments"
	case "StatefulSet":
		return &appsv1.StatefulSet{TypeMeta: tm("apps"), ObjectMeta: om, Spec: appsv1.StatefulSetSpec{Selector: sel, ServiceName: name, Template: template(spec, nil)}}, "apps", "statefulsets"
	case "DaemonSet":
		return &appsv1.DaemonSet{TypeMeta: tm("apps"), ObjectMeta: om, Spec: appsv1.DaemonSetSpec{Selector: sel, Template: template(spec, nil)}}, "apps", "daemonsets"
	case "ReplicaSet":
		return &appsv1.ReplicaSet{TypeMeta: tm("apps"), ObjectMeta: om, Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: template(spec, nil)}}, "apps", "replicasets"
	case "Job":
		spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.Job{TypeMeta: tm("batch"), ObjectMeta: om, Spec: batchv1.JobSpec{Template: template(spec, nil)}}, "batch", "jobs"
	case "CronJob":
		spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.CronJob{TypeMeta: tm("batch"), ObjectMeta: om, Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template(spec, nil)}}}}, "batch", "cronjobs"
	}
	panic("unknown kind " + kind)
}

var workloadKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}

// review builds an AdmissionReview request.
func review(uid string, op admissionv1.Operation, obj, old runtime.Object, group, resource, ns, sub string) *admissionv1.AdmissionReview {
	kind := obj.GetObjectKind().GroupVersionKind()
	name := ""
	if m, ok := obj.(metav1.Object); ok {
		name = m.GetName()
	}
	gvk := metav1.GroupVersionKind{Group: group, Version: "v1", Kind: kind.Kind}
	gvr := metav1.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
	req := &admissionv1.AdmissionRequest{
		UID: types.UID(uid), Kind: gvk, Resource: gvr, SubResource: sub, RequestKind: &gvk, RequestResource: &gvr,
		RequestSubResource: sub, Name: name, Namespace: ns, Operation: op,
		UserInfo: authnv1.UserInfo{Username: "alice@example.com", Groups: []string{"developers", "system:authenticated"}},
		Object:   runtime.RawExtension{Raw: mustJSON(obj)},
		DryRun:   new(bool),
	}
	if old != nil {
		req.OldObject = runtime.RawExtension{Raw: mustJSON(old)}
	}
	switch op {
	case admissionv1.Create:
		req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-client-side-apply","fieldValidation":"Strict"}`)}
	case admissionv1.Update:
		req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl","fieldValidation":"Strict"}`)}
	}
	return &admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
