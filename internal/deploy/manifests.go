package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// The defaults of Options, and what docs/admission.md recommends.
const (
	DefaultName     = "shipshape"
	DefaultReplicas = 2
	// DefaultTimeoutSeconds is the webhook's timeoutSeconds: below the API
	// server's default of 10 s, and above the handler's own deadline
	// (admission.DefaultDeadline, 3 s) with room for TLS and the network.
	DefaultTimeoutSeconds = 5
	// DefaultCertValidity is the lifetime of a certificate made here.
	DefaultCertValidity = 5 * 365 * 24 * time.Hour
	// WebhookName is the name of the enforcing webhook; the warn-mode one is
	// "warn." + WebhookName.
	WebhookName = "images.shipshape.dev"
	// UID is the numeric user and group shipshape runs as (distroless' nonroot).
	UID = 65532
	// ContainerPort is where shipshape serve listens (HTTPS) in the pod.
	ContainerPort = 8443
)

// Options describe an installation.
type Options struct {
	// Namespace shipshape runs in (required). It is always exempt.
	Namespace string
	// Name of every object (default "shipshape").
	Name string
	// Image of shipshape (required; the CLI defaults it to its own version).
	Image string
	// Replicas of the webhook (default 2).
	Replicas int32
	// ExemptNamespaces are never judged: excluded by the webhooks'
	// namespaceSelector and by serve's --admission-exempt. kube-system and
	// Namespace are always added.
	ExemptNamespaces []string
	// WarnNamespaces are in warn mode: judged by a second webhook with
	// failurePolicy Ignore (warn never blocks, not even when shipshape is
	// down) and given to serve as --admission-rule NAMESPACES=warn.
	WarnNamespaces []string
	// TimeoutSeconds of the webhooks (default 5; 2 to 9).
	TimeoutSeconds int32
	// CertManager: a cert-manager Issuer and Certificate make the serving
	// certificate and cert-manager injects the CA. Otherwise a CA and a
	// certificate are made here and put in a Secret.
	CertManager bool
	// CertValidity of a certificate made here (default 5 years).
	CertValidity time.Duration
	// DatabaseSecret names the Secret whose key "dsn" is the PostgreSQL DSN
	// the replicas share (default NAME-db).
	DatabaseSecret string
	// Mutate also registers the digest-pinning mutating webhook, for pods only.
	Mutate bool
	// Now is the clock for the certificates (time.Now when zero).
	Now time.Time
}

func (o *Options) normalize() error {
	var errs []error
	if o.Namespace == "" {
		errs = append(errs, errors.New("a namespace is required"))
	} else if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("namespace %q: %s", o.Namespace, strings.Join(msgs, "; ")))
	}
	if o.Name == "" {
		o.Name = DefaultName
	} else if msgs := validation.IsDNS1035Label(o.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("name %q: %s", o.Name, strings.Join(msgs, "; ")))
	}
	if o.Image == "" {
		errs = append(errs, errors.New("an image is required"))
	}
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	} else if o.Replicas < 1 {
		errs = append(errs, fmt.Errorf("replicas %d: want at least 1", o.Replicas))
	}
	if o.TimeoutSeconds == 0 {
		o.TimeoutSeconds = DefaultTimeoutSeconds
	} else if o.TimeoutSeconds < 2 || o.TimeoutSeconds > 9 {
		errs = append(errs, fmt.Errorf("timeoutSeconds %d: want 2 to 9 (below the API server's 10 s, above the handler's deadline)", o.TimeoutSeconds))
	}
	if o.CertValidity <= 0 {
		o.CertValidity = DefaultCertValidity
	}
	if o.DatabaseSecret == "" {
		o.DatabaseSecret = o.Name + "-db"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	exempt := []string{"kube-system", o.Namespace}
	for _, ns := range o.ExemptNamespaces {
		if !slices.Contains(exempt, ns) {
			exempt = append(exempt, ns)
		}
	}
	o.ExemptNamespaces = exempt
	for _, ns := range append(slices.Clone(o.ExemptNamespaces), o.WarnNamespaces...) {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("namespace %q: %s", ns, strings.Join(msgs, "; ")))
		}
	}
	for _, ns := range o.WarnNamespaces {
		if slices.Contains(o.ExemptNamespaces, ns) {
			errs = append(errs, fmt.Errorf("namespace %q is both exempt and in warn mode", ns))
		}
	}
	return errors.Join(errs...)
}

// handlerDeadline is serve's admission deadline for a webhook timeout: at
// least 2 s below it, never below 1 s.
func handlerDeadline(timeoutSeconds int32) time.Duration {
	return time.Duration(max(1, min(3, timeoutSeconds-2))) * time.Second
}

// Manifests returns the objects of an installation, in the order to apply
// them: the Namespace, TLS (Secret, or cert-manager Issuer and Certificate), Service,
// Deployment, PodDisruptionBudget, webhook configurations. The typed ones
// are k8s.io/api types; cert-manager's are unstructured.
func Manifests(o Options) ([]runtime.Object, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	labels := map[string]string{"app.kubernetes.io/name": "shipshape", "app.kubernetes.io/instance": o.Name, "app.kubernetes.io/component": "admission-webhook"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels}
	}
	tlsSecret := o.Name + "-tls"
	svcHost := o.Name + "." + o.Namespace + ".svc"
	// The namespace enforces the restricted Pod Security Standard, which
	// shipshape's pods meet.
	objs := []runtime.Object{&corev1.Namespace{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Namespace, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "app.kubernetes.io/name": "shipshape"}},
	}}
	var caBundle []byte
	webhookAnnotations := map[string]string{}
	if o.CertManager {
		issuer := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
			"metadata": map[string]any{"name": o.Name + "-selfsigned", "namespace": o.Namespace, "labels": anyMap(labels)},
			"spec":     map[string]any{"selfSigned": map[string]any{}},
		}}
		cert := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
			"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace, "labels": anyMap(labels)},
			"spec": map[string]any{
				"secretName":  tlsSecret,
				"dnsNames":    []any{svcHost, svcHost + ".cluster.local"},
				"duration":    "8760h",
				"renewBefore": "720h",
				"privateKey":  map[string]any{"algorithm": "ECDSA", "size": int64(256), "rotationPolicy": "Always"},
				"issuerRef":   map[string]any{"name": o.Name + "-selfsigned", "kind": "Issuer", "group": "cert-manager.io"},
			},
		}}
		objs = append(objs, issuer, cert)
		// cert-manager's CA injector fills in caBundle from the Certificate's secret.
		webhookAnnotations["cert-manager.io/inject-ca-from"] = o.Namespace + "/" + o.Name
	} else {
		tb, err := NewTLSBundle([]string{svcHost, svcHost + ".cluster.local", o.Name + "." + o.Namespace, o.Name}, o.CertValidity, o.Now)
		if err != nil {
			return nil, err
		}
		caBundle = tb.CA
		objs = append(objs, &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: meta(tlsSecret),
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: tb.Cert, corev1.TLSPrivateKeyKey: tb.Key, "ca.crt": tb.CA},
		})
	}

	objs = append(objs, &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(o.Name),
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP}},
		},
	})

	args := []string{"serve",
		"--role", "api",
		"--listen", ":" + strconv.Itoa(ContainerPort),
		"--tls-cert", "/etc/shipshape/tls/tls.crt", "--tls-key", "/etc/shipshape/tls/tls.key",
		"--admission", "--admission-mode", "enforce",
		"--admission-exempt", strings.Join(o.ExemptNamespaces, ","),
		"--admission-deadline", handlerDeadline(o.TimeoutSeconds).String(),
	}
	if len(o.WarnNamespaces) > 0 {
		args = append(args, "--admission-rule", strings.Join(o.WarnNamespaces, ",")+"=warn")
	}
	if o.Mutate {
		args = append(args, "--admission-mutate")
	}
	uid, no, yes := int64(UID), false, true
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("https"), Scheme: corev1.URISchemeHTTPS}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: 3,
		}
	}
	replicas, maxUnavailable := o.Replicas, intstr.FromInt32(0)
	podLabels := labels
	objs = append(objs, &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(o.Name),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			// A rollout never takes a ready replica away before its successor is ready.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: &no,
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid,
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: labels}, TopologyKey: "kubernetes.io/hostname"}}}}},
					Containers: []corev1.Container{{
						Name:  "shipshape",
						Image: o.Image,
						Args:  args,
						Env: []corev1.EnvVar{
							{Name: "SHIPSHAPE_DB", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
								LocalObjectReference: corev1.LocalObjectReference{Name: o.DatabaseSecret}, Key: "dsn"}}},
							{Name: "XDG_CACHE_HOME", Value: "/var/cache/shipshape"},
						},
						Ports:          []corev1.ContainerPort{{Name: "https", ContainerPort: ContainerPort, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe: probe("/readyz", 5),
						LivenessProbe:  probe("/healthz", 10),
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
							RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						Resources: corev1.ResourceRequirements{Requests: resources("100m", "128Mi"), Limits: resources("", "512Mi")},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "tls", MountPath: "/etc/shipshape/tls", ReadOnly: true},
							{Name: "cache", MountPath: "/var/cache/shipshape"},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: tlsSecret}}},
						{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	})
	minAvailable := intstr.FromInt32(1)
	objs = append(objs, &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(o.Name),
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: labels}},
	})

	path, port := "/admission/v1/validate", int32(443)
	none, equivalent, scope := admissionregistrationv1.SideEffectClassNone, admissionregistrationv1.Equivalent, admissionregistrationv1.NamespacedScope
	fail, ignore := admissionregistrationv1.Fail, admissionregistrationv1.Ignore
	timeout := o.TimeoutSeconds
	rule := func(group string, resources ...string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: resources, Scope: &scope},
		}
	}
	rules := []admissionregistrationv1.RuleWithOperations{
		rule("", "pods", "pods/ephemeralcontainers"),
		rule("apps", "deployments", "statefulsets", "daemonsets", "replicasets"),
		rule("batch", "jobs", "cronjobs"),
	}
	webhook := func(name string, policy *admissionregistrationv1.FailurePolicyType, op metav1.LabelSelectorOperator, namespaces []string) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name: name,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				Service:  &admissionregistrationv1.ServiceReference{Namespace: o.Namespace, Name: o.Name, Path: &path, Port: &port},
				CABundle: caBundle,
			},
			Rules:                   rules,
			FailurePolicy:           policy,
			MatchPolicy:             &equivalent,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "kubernetes.io/metadata.name", Operator: op, Values: namespaces}}},
		}
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: labels, Annotations: webhookAnnotations},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			webhook(WebhookName, &fail, metav1.LabelSelectorOpNotIn, append(slices.Clone(o.ExemptNamespaces), o.WarnNamespaces...)),
		},
	}
	if len(o.WarnNamespaces) > 0 {
		vwc.Webhooks = append(vwc.Webhooks, webhook("warn."+WebhookName, &ignore, metav1.LabelSelectorOpIn, o.WarnNamespaces))
	}
	if len(webhookAnnotations) == 0 {
		vwc.Annotations = nil
	}
	objs = append(objs, vwc)
	if o.Mutate {
		mpath, never := "/admission/v1/mutate", admissionregistrationv1.NeverReinvocationPolicy
		mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
			ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: labels, Annotations: vwc.Annotations},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name: "pin." + WebhookName,
				ClientConfig: admissionregistrationv1.WebhookClientConfig{
					Service:  &admissionregistrationv1.ServiceReference{Namespace: o.Namespace, Name: o.Name, Path: &mpath, Port: &port},
					CABundle: caBundle,
				},
				// Pods only: workloads stay as written in Git (GitOps), their Pods are pinned.
				Rules:                   []admissionregistrationv1.RuleWithOperations{rule("", "pods")},
				FailurePolicy:           &ignore,
				MatchPolicy:             &equivalent,
				SideEffects:             &none,
				TimeoutSeconds:          &timeout,
				AdmissionReviewVersions: []string{"v1"},
				ReinvocationPolicy:      &never,
				NamespaceSelector:       vwc.Webhooks[0].NamespaceSelector,
			}},
		}
		objs = append(objs, mwc)
	}
	return objs, nil
}

// WriteYAML writes objects as one YAML stream, without their (empty)
// status and creation timestamps.
func WriteYAML(w io.Writer, objs []runtime.Object) error {
	var buf bytes.Buffer
	for i, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		delete(m, "status")
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		if tmpl, ok, _ := unstructured.NestedMap(m, "spec", "template", "metadata"); ok {
			delete(tmpl, "creationTimestamp")
			_ = unstructured.SetNestedMap(m, tmpl, "spec", "template", "metadata")
		}
		b, err := yaml.Marshal(m)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func resources(cpu, memory string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		l[corev1.ResourceMemory] = resource.MustParse(memory)
	}
	return l
}

// DefaultImage is shipshape's published image of a version.
func DefaultImage(version string) string {
	if version == "" || version == "dev" {
		version = "latest"
	}
	return "ghcr.io/shipshape-dev/shipshape:" + version
}
