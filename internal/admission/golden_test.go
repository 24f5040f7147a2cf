package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var update = flag.Bool("update", false, "rewrite the golden AdmissionReview files in testdata/golden")

// goldenCase is one AdmissionReview request and its expected response, stored
// as testdata/golden/NAME.request.json and NAME.response.json. The request files
// are the input of record; build only writes them with -update.
type goldenCase struct {
	name     string
	mutate   bool
	view     View
	build    func() *admissionv1.AdmissionReview
	contains []string // the response must also contain these (a readable check beside the golden file)
}

var errStoreDown = errors.New("store unreachable: dial tcp 127.0.0.1:5432: connection refused")

func failingView() View {
	return ViewFunc(func(context.Context, string) (Approval, bool, error) { return Approval{}, false, errStoreDown })
}

func goldenCases() []goldenCase {
	var cases []goldenCase
	wl := func(uid, kind, ns string, init, main []string, labels, ann map[string]string) func() *admissionv1.AdmissionReview {
		return func() *admissionv1.AdmissionReview {
			obj, group, res := workloadObject(kind, "web", ns, podSpec(init, main), labels, ann)
			return review(uid, admissionv1.Create, obj, nil, group, res, ns, "")
		}
	}
	modes := []struct{ mode, ns string }{{"enforce", "prod"}, {"warn", "staging"}, {"audit", "sandbox"}}
	for _, kind := range workloadKinds {
		k := strings.ToLower(kind)
		cases = append(cases, goldenCase{name: k + "-approved-enforce",
			build:    wl("uid-"+k+"-approved", kind, "prod", []string{"migrate=" + imgWeb}, []string{"web=" + imgWeb, "sidecar=" + imgMulti}, nil, nil),
			contains: []string{`"allowed": true`, `"uid": "uid-` + k + `-approved"`}})
		for _, m := range modes {
			want := []string{`"allowed": false`, "registry.example/team/tool:2.0", "https://shipshape.example/images/" + dg("b"),
				"SEC-001 USER is not set", "is pending"}
			switch m.mode {
			case "warn":
				want = []string{`"allowed": true`, `"warnings"`, "would deny", "registry.example/team/tool:2.0"}
			case "audit":
				want = []string{`"allowed": true`, `"outcome": "audited"`}
			}
			cases = append(cases, goldenCase{name: k + "-unapproved-" + m.mode,
				build: wl("uid-"+k+"-"+m.mode, kind, m.ns, []string{"migrate=" + imgWeb},
					[]string{"web=" + imgWeb, "tool=" + imgTool, "new=" + imgNew}, nil, nil),
				contains: want})
		}
	}
	pod := func(uid, ns string, main []string, ann map[string]string) func() *admissionv1.AdmissionReview {
		return wl(uid, "Pod", ns, nil, main, nil, ann)
	}
	ephemeral := func(uid, image string) func() *admissionv1.AdmissionReview {
		return func() *admissionv1.AdmissionReview {
			old, _, _ := workloadObject("Pod", "web", "prod", podSpec(nil, []string{"web=" + imgOld}), nil, nil)
			cur := old.DeepCopyObject().(*corev1.Pod)
			cur.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debugger-x7k2p", Image: image, Stdin: true, TTY: true}, TargetContainerName: "web"}}
			return review(uid, admissionv1.Update, cur, old, "", "pods", "prod", "ephemeralcontainers")
		}
	}
	deployUpdate := func(uid, oldImage, newImage string) func() *admissionv1.AdmissionReview {
		return func() *admissionv1.AdmissionReview {
			old, g, r := workloadObject("Deployment", "web", "prod", podSpec(nil, []string{"web=" + oldImage}), nil, nil)
			cur, _, _ := workloadObject("Deployment", "web", "prod", podSpec(nil, []string{"web=" + newImage}), nil, nil)
			return review(uid, admissionv1.Update, cur, old, g, r, "prod", "")
		}
	}
	bg := map[string]string{DefaultBreakGlassAnnotation: "open-sesame", DefaultBreakGlassReasonAnnotation: "INC-4711 rollback"}
	bgBad := map[string]string{DefaultBreakGlassAnnotation: "guess", DefaultBreakGlassReasonAnnotation: "please"}
	cases = append(cases,
		goldenCase{name: "pod-revoked-enforce", build: pod("uid-revoked", "prod", []string{"web=" + imgOld}, nil),
			contains: []string{"is revoked (CVE-2026-1234 is fixable)", "SEC-020"}},
		goldenCase{name: "pod-expired-enforce", build: pod("uid-expired", "prod", []string{"web=" + imgLapsed}, nil),
			contains: []string{"approval expired on 2026-12-01"}},
		goldenCase{name: "pod-expiring-enforce", build: pod("uid-expiring", "prod", []string{"api=" + imgAPI}, nil),
			contains: []string{`"allowed": true`, "expires in 3 days (2026-12-04)"}},
		goldenCase{name: "pod-index-platform-digest", build: pod("uid-platform", "prod", []string{"multi=registry.example/team/multi@" + platformOfMulti}, nil),
			contains: []string{`"allowed": true`}},
		goldenCase{name: "pod-digest-unapproved", build: pod("uid-digest", "prod", []string{"tool=registry.example/team/tool@" + dg("b")}, nil),
			contains: []string{`"allowed": false`, "no approval for this digest"}},
		goldenCase{name: "pod-unresolvable-tag", build: pod("uid-ghost", "prod", []string{"ghost=registry.example/team/ghost:1"}, nil),
			contains: []string{`"allowed": false`, "MANIFEST_UNKNOWN", "pin the image by digest"}},
		goldenCase{name: "pod-invalid-reference", build: pod("uid-invalid", "prod", []string{"bad=Registry.example/UPPER:case:x"}, nil),
			contains: []string{`"allowed": false`, "not a valid image reference"}},
		goldenCase{name: "pod-exempt-kube-system", build: pod("uid-exempt", "kube-system", []string{"tool=" + imgTool}, nil),
			contains: []string{`"allowed": true`, `"reason": "exempt"`}},
		goldenCase{name: "pod-label-selects-warn", build: wl("uid-label", "Pod", "prod", nil, []string{"tool=" + imgTool},
			map[string]string{"shipshape.dev/mode": "warn"}, nil), contains: []string{`"allowed": true`, "would deny"}},
		goldenCase{name: "pod-break-glass", build: pod("uid-bg", "prod", []string{"tool=" + imgTool}, bg),
			contains: []string{`"allowed": true`, "break-glass by alice@example.com (INC-4711 rollback)"}},
		goldenCase{name: "pod-break-glass-bad-token", build: pod("uid-bg-bad", "prod", []string{"tool=" + imgTool}, bgBad),
			contains: []string{`"allowed": false`, "break-glass ignored: the token is not valid"}},
		goldenCase{name: "pod-view-error-enforce", view: failingView(), build: pod("uid-view-enforce", "prod", []string{"web=" + imgWeb}, nil),
			contains: []string{`"allowed": false`, "approvals cannot be read"}},
		goldenCase{name: "pod-view-error-warn", view: failingView(), build: pod("uid-view-warn", "staging", []string{"web=" + imgWeb}, nil),
			contains: []string{`"allowed": true`, "approvals cannot be read"}},
		goldenCase{name: "pod-view-error-audit", view: failingView(), build: pod("uid-view-audit", "sandbox", []string{"web=" + imgWeb}, nil),
			contains: []string{`"allowed": true`, `"outcome": "audited"`}},
		goldenCase{name: "pod-view-not-loaded-enforce", view: NewEmptyMemView(), build: pod("uid-view-empty", "prod", []string{"web=" + imgWeb}, nil),
			contains: []string{`"allowed": false`, "not loaded yet"}},
		goldenCase{name: "pod-ephemeral-debug-approved", build: ephemeral("uid-debug-ok", imgDebugger),
			contains: []string{`"allowed": true`}},
		goldenCase{name: "pod-ephemeral-debug-unapproved", build: ephemeral("uid-debug-bad", imgTool),
			contains: []string{`"allowed": false`, `ephemeralContainer \"debugger-x7k2p\"`}},
		goldenCase{name: "deployment-update-unchanged-revoked", build: deployUpdate("uid-upd-same", imgOld, imgOld),
			contains: []string{`"allowed": true`}},
		goldenCase{name: "deployment-update-to-unapproved", build: deployUpdate("uid-upd-new", imgWeb, imgTool),
			contains: []string{`"allowed": false`, "registry.example/team/tool:2.0"}},
		goldenCase{name: "pod-delete", build: func() *admissionv1.AdmissionReview {
			obj, _, _ := workloadObject("Pod", "web", "prod", podSpec(nil, []string{"tool=" + imgTool}), nil, nil)
			rv := review("uid-delete", admissionv1.Delete, obj, obj, "", "pods", "prod", "")
			rv.Request.Object.Raw, rv.Request.Options.Raw = nil, []byte(`{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1"}`)
			return rv
		}, contains: []string{`"allowed": true`}},
		goldenCase{name: "configmap-unsupported-kind", build: func() *admissionv1.AdmissionReview {
			cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
				ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "prod"}, Data: map[string]string{"image": imgTool}}
			return review("uid-cm", admissionv1.Create, cm, nil, "", "configmaps", "prod", "")
		}, contains: []string{`"allowed": false`, "remove it from the webhook's rules"}},
		goldenCase{name: "mutate-deployment-pins-approved", mutate: true,
			build:    wl("uid-mutate", "Deployment", "prod", []string{"migrate=" + imgWeb}, []string{"web=" + imgWeb, "tool=" + imgTool, "pinned=registry.example/team/web@" + dg("a")}, nil, nil),
			contains: []string{`"allowed": true`, `"patchType": "JSONPatch"`}},
		goldenCase{name: "mutate-cronjob-pins-approved", mutate: true,
			build:    wl("uid-mutate-cron", "CronJob", "prod", nil, []string{"web=" + imgWeb}, nil, nil),
			contains: []string{`"allowed": true`, `"patchType": "JSONPatch"`}},
	)
	return cases
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := goldenCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reqPath := filepath.Join(dir, tc.name+".request.json")
			respPath := filepath.Join(dir, tc.name+".response.json")
			if *update {
				writeIndented(t, reqPath, mustJSON(tc.build()))
			}
			body, err := os.ReadFile(reqPath)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			h := newTestHandler(t, func(c *Config) { c.EnableMutation = true }, tc.view)
			path := ValidatePath
			if tc.mutate {
				path = MutatePath
			}
			mux := http.NewServeMux()
			h.Register(mux)
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			got := indent(t, rec.Body.Bytes())
			if *update {
				writeIndented(t, respPath, rec.Body.Bytes())
			}
			want, err := os.ReadFile(respPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("response differs from %s (go test -run TestGolden -update to accept):\n%s", respPath, got)
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(got), s) {
					t.Errorf("response lacks %q:\n%s", s, got)
				}
			}
			var rv admissionv1.AdmissionReview
			if err := json.Unmarshal(got, &rv); err != nil || rv.Response == nil {
				t.Fatalf("response is not an AdmissionReview: %v", err)
			}
			in, _ := DecodeReview(body)
			if rv.Response.UID != in.Request.UID {
				t.Errorf("uid %q, want the request's %q", rv.Response.UID, in.Request.UID)
			}
		})
	}
	if !*update { // no stale files
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != 2*len(cases) {
			t.Errorf("%d golden files for %d cases: remove the stale ones", len(files), len(cases))
		}
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func writeIndented(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, indent(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
}
