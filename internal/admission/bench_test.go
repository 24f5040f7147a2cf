package admission

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// benchReview is the CREATE of a Deployment with 50
// realistic containers (env, resources, probes, mounts), 50 distinct tags, all
// approved and cached: the hot path of the target (500 reviews/s, p99 < 10 ms).
func benchReview(b *testing.B) ([]byte, *Handler) {
	var approvals []Approval
	tags := map[string]string{}
	spec := corev1.PodSpec{}
	for i := 0; i < 50; i++ {
		img := fmt.Sprintf("registry.example/team/svc-%02d:1.%d.0", i, i)
		d := fmt.Sprintf("sha256:%064x", i+1)
		tags[img] = d
		approvals = append(approvals, Approval{Digest: d, Ref: img, State: StateApproved, ValidUntil: testNow.AddDate(1, 0, 0)})
		c := corev1.Container{Name: fmt.Sprintf("svc-%02d", i), Image: img,
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/svc"}}}
		for j := 0; j < 10; j++ {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("SETTING_%d", j), Value: "some-value-of-moderate-length"})
		}
		spec.Containers = append(spec.Containers, c)
	}
	obj, g, r := workloadObject("Deployment", "big", "prod", spec, map[string]string{"app": "big"}, nil)
	body := mustJSON(review("bench-uid", admissionv1.Create, obj, nil, g, r, "prod", ""))
	res := NewCachingResolver(func(_ context.Context, tag name.Tag) (string, error) { return tags[tag.String()], nil },
		CacheOptions{TTL: time.Hour})
	cfg := testConfig()
	cfg.Now = nil
	h, err := NewHandler(cfg, NewMemView(approvals...), res, nil)
	if err != nil {
		b.Fatal(err)
	}
	// warm the tag cache, as a running server's is
	if rec := post(b, h.ValidateHandler(), ValidatePath, "application/json", body); rec.Code != http.StatusOK {
		b.Fatal(rec.Body)
	}
	return body, h
}

// BenchmarkValidate50Containers measures one review over HTTP (decode, judge,
// encode) and reports the p50 and p99 latency beside ns/op.
func BenchmarkValidate50Containers(b *testing.B) {
	body, h := benchReview(b)
	v := h.ValidateHandler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rec := post(b, v, ValidatePath, "application/json", body)
		lat = append(lat, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkValidate50ContainersParallel is the same under concurrency (GOMAXPROCS goroutines).
func BenchmarkValidate50ContainersParallel(b *testing.B) {
	body, h := benchReview(b)
	v := h.ValidateHandler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := post(b, v, ValidatePath, "application/json", body); rec.Code != http.StatusOK {
				b.Error(rec.Code)
				return
			}
		}
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(p(0.50), "p50-ns")
	b.ReportMetric(p(0.99), "p99-ns")
}
