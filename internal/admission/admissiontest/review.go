// Package admissiontest builds the AdmissionReview requests the API server
// sends for a Pod, and checks the answers, for tests and for the load
// benchmark (bench/admissionload). A review body is made once as a Template
// and then stamped with a fresh uid per request, so that a load generator
// spends no time encoding JSON.
package admissiontest

import (
	"bytes"
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Pod is a Pod running one container per image, each as a real
// deployment writes them: resources, a readiness probe, a mount and ten
// environment variables, so that a review has a realistic size (about
// 0.9 KiB of JSON per container).
func Pod(name, namespace string, images []string) *corev1.Pod {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app": name}}}
	p.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	for i, img := range images {
		c := corev1.Container{Name: fmt.Sprintf("c%02d", i), Image: img,
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/svc"}}}
		for j := 0; j < 10; j++ {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("SETTING_%d", j), Value: "some-value-of-moderate-length"})
		}
		p.Spec.Containers = append(p.Spec.Containers, c)
	}
	return p
}

// uidMark stands for the uid in a Template; it cannot occur in JSON that
// encoding/json writes for a pod (it would escape the "<").
const uidMark = "<UID>"

// Template is the body of a CREATE review of one Pod, with the uid left open.
type Template struct {
	prefix, suffix []byte
}

// NewTemplate encodes the review of creating pod in its namespace.
func NewTemplate(pod *corev1.Pod) (Template, error) {
	raw, err := json.Marshal(pod)
	if err != nil {
		return Template{}, err
	}
	rv := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:         types.UID(uidMark),
			Kind:        metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:    metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			RequestKind: &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Name:        pod.Name, Namespace: pod.Namespace, Operation: admissionv1.Create,
			UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller",
				Groups: []string{"system:serviceaccounts", "system:authenticated"}},
			Object:  runtime.RawExtension{Raw: raw},
			Options: runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}`)},
		},
	}
	b, err := json.Marshal(rv)
	if err != nil {
		return Template{}, err
	}
	b = bytes.Replace(b, []byte(`"\u003cUID\u003e"`), []byte(`"`+uidMark+`"`), 1)
	i := bytes.Index(b, []byte(uidMark))
	if i < 0 {
		return Template{}, fmt.Errorf("admissiontest: no uid in %s", b)
	}
	return Template{prefix: b[:i], suffix: b[i+len(uidMark):]}, nil
}

// Body is the review with this uid (letters, digits and "-" only).
func (t Template) Body(uid string) []byte {
	b := make([]byte, 0, len(t.prefix)+len(uid)+len(t.suffix))
	return append(append(append(b, t.prefix...), uid...), t.suffix...)
}

// Answer decodes the webhook's answer to the review uid: an
// admission.k8s.io/v1 AdmissionReview whose response echoes uid.
func Answer(body []byte, uid string) (*admissionv1.AdmissionResponse, error) {
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &rv); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %w", err)
	}
	if rv.APIVersion != "admission.k8s.io/v1" || rv.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("answer is a %s %s, want an admission.k8s.io/v1 AdmissionReview", rv.APIVersion, rv.Kind)
	}
	if rv.Response == nil {
		return nil, fmt.Errorf("answer has no response")
	}
	if string(rv.Response.UID) != uid {
		return nil, fmt.Errorf("answer's uid is %q, want %q", rv.Response.UID, uid)
	}
	return rv.Response, nil
}
