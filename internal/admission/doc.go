// Package admission decides whether Kubernetes may run a workload's images: it
// serves a ValidatingAdmissionWebhook (and an optional mutating one that pins
// tags to approved digests) speaking admission.k8s.io/v1 AdmissionReview.
//
// The package is pure and fast by design: a review is turned into the images of
// the workload (Pods and the pod templates of Deployments, StatefulSets,
// DaemonSets, ReplicaSets, Jobs and CronJobs; containers, init containers and
// ephemeral containers), each reference is resolved to a digest by a Resolver
// (a tag-to-digest cache; digests in the reference skip it), and each digest is
// looked up in a View of the approvals held in memory. Nothing on the request
// path talks to a registry, a transparency log or an advisory source once the
// digest is known.
//
// The service plugs in its store through View (or by feeding MemView.Replace),
// and its metrics and event log through Recorder.
package admission
