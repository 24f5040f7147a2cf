// Package deploy writes what puts shipshape's admission webhook in front of a
// cluster: the ValidatingWebhookConfiguration, the Service and Deployment of
// shipshape serve, and its TLS setup (a CA and serving certificate made here,
// in a Secret, or cert-manager's Issuer and Certificate). shipshape serve
// admission manifests prints them; docs/admission.md explains them.
package deploy
