package admission

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// ContainerKind says which list of a pod spec a container comes from.
type ContainerKind string

// The container lists of a pod spec.
const (
	KindContainer          ContainerKind = "container"
	KindInitContainer      ContainerKind = "initContainer"
	KindEphemeralContainer ContainerKind = "ephemeralContainer"
)

// Container is one container of a workload, with the JSON pointer of its image
// field in the object (for the digest-pinning patch).
type Container struct {
	Kind  ContainerKind `json:"kind"`
	Name  string        `json:"name"`
	Image string        `json:"image"`
	Path  string        `json:"-"`
}

// Workload is what the decision needs from an admitted object.
type Workload struct {
	// Kind is the object's kind (Pod, Deployment, ...).
	Kind string
	// Name is metadata.name, or metadata.generateName when the name is not set yet.
	Name string
	// Labels and Annotations are the object's own metadata.
	Labels, Annotations map[string]string
	// TemplateAnnotations are the annotations of the pod template (nil for a Pod).
	TemplateAnnotations map[string]string
	// Containers lists every container, init container and ephemeral container.
	Containers []Container
}

// The subset of the Kubernetes objects the decision reads. Decoding into these
// (instead of the full k8s.io/api types) reads every field that matters, skips
// the rest without allocating it, and does not fail on fields that only other
// parts of Kubernetes validate (quantities, probes...).
type objectMeta struct {
	Name         string            `json:"name"`
	GenerateName string            `json:"generateName"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
}

type containerJSON struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type podSpecJSON struct {
	Containers          []containerJSON `json:"containers"`
	InitContainers      []containerJSON `json:"initContainers"`
	EphemeralContainers []containerJSON `json:"ephemeralContainers"`
}

type podTemplateJSON struct {
	Metadata objectMeta  `json:"metadata"`
	Spec     podSpecJSON `json:"spec"`
}

type podJSON struct {
	Metadata objectMeta  `json:"metadata"`
	Spec     podSpecJSON `json:"spec"`
}

type templatedJSON struct { // Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Template podTemplateJSON `json:"template"`
	} `json:"spec"`
}

type cronJobJSON struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		JobTemplate struct {
			Metadata objectMeta `json:"metadata"`
			Spec     struct {
				Template podTemplateJSON `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// SupportedKinds lists the group/kind pairs ("" is the core group) whose images
// the package knows how to find.
var supportedKinds = map[[2]string]bool{
	{"", "Pod"}:             true,
	{"apps", "Deployment"}:  true,
	{"apps", "StatefulSet"}: true,
	{"apps", "DaemonSet"}:   true,
	{"apps", "ReplicaSet"}:  true,
	{"batch", "Job"}:        true,
	{"batch", "CronJob"}:    true,
}

// Supported reports whether ExtractWorkload knows the kind of the given API group.
func Supported(group, kind string) bool { return supportedKinds[[2]string{group, kind}] }

// ExtractWorkload decodes an object of the given API group and kind (as in the
// AdmissionRequest's kind) and lists its containers.
func ExtractWorkload(group, kind string, raw []byte) (Workload, error) {
	if !Supported(group, kind) {
		return Workload{}, fmt.Errorf("unsupported kind %s", groupKind(group, kind))
	}
	w := Workload{Kind: kind}
	var meta objectMeta
	switch kind {
	case "Pod":
		var p podJSON
		if err := json.Unmarshal(raw, &p); err != nil {
			return Workload{}, fmt.Errorf("decoding %s: %w", kind, err)
		}
		meta = p.Metadata
		w.Containers = listContainers("/spec", p.Spec)
	case "CronJob":
		var c cronJobJSON
		if err := json.Unmarshal(raw, &c); err != nil {
			return Workload{}, fmt.Errorf("decoding %s: %w", kind, err)
		}
		meta = c.Metadata
		t := c.Spec.JobTemplate.Spec.Template
		w.TemplateAnnotations = t.Metadata.Annotations
		w.Containers = listContainers("/spec/jobTemplate/spec/template/spec", t.Spec)
	default:
		var t templatedJSON
		if err := json.Unmarshal(raw, &t); err != nil {
			return Workload{}, fmt.Errorf("decoding %s: %w", kind, err)
		}
		meta = t.Metadata
		w.TemplateAnnotations = t.Spec.Template.Metadata.Annotations
		w.Containers = listContainers("/spec/template/spec", t.Spec.Template.Spec)
	}
	w.Name, w.Labels, w.Annotations = meta.Name, meta.Labels, meta.Annotations
	if w.Name == "" {
		w.Name = meta.GenerateName
	}
	return w, nil
}

func listContainers(prefix string, s podSpecJSON) []Container {
	out := make([]Container, 0, len(s.Containers)+len(s.InitContainers)+len(s.EphemeralContainers))
	add := func(kind ContainerKind, field string, cs []containerJSON) {
		for i, c := range cs {
			out = append(out, Container{Kind: kind, Name: c.Name, Image: c.Image,
				Path: prefix + "/" + field + "/" + strconv.Itoa(i) + "/image"})
		}
	}
	add(KindInitContainer, "initContainers", s.InitContainers)
	add(KindContainer, "containers", s.Containers)
	add(KindEphemeralContainer, "ephemeralContainers", s.EphemeralContainers)
	return out
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}
