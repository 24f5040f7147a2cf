package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/deploy"
)

// newServeAdmission is `shipshape serve admission`: what puts the webhook in
// front of a cluster.
func newServeAdmission() *cobra.Command {
	cmd := &cobra.Command{Use: "admission", Short: "Install the admission webhook in a cluster (see docs/admission.md)", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("say what to do: shipshape serve admission manifests")}
		}}
	var o deploy.Options
	manifests := &cobra.Command{
		Use:   "manifests",
		Short: "Print the Kubernetes manifests of the webhook: TLS, Service, Deployment, PodDisruptionBudget, ValidatingWebhookConfiguration",
		Long: "manifests prints, as one YAML stream for kubectl apply -f -, everything the admission webhook needs in a cluster: " +
			"its TLS (a CA and serving certificate made now, in a Secret; or with --cert-manager, a cert-manager Issuer and Certificate and the CA injected by cert-manager), " +
			"the Service, the Deployment of shipshape serve (2 replicas, non-root, sharing the PostgreSQL database whose DSN is the key dsn of the Secret NAME-db), " +
			"a PodDisruptionBudget and the ValidatingWebhookConfiguration (failurePolicy Fail, timeoutSeconds 5; warn-mode namespaces in a second webhook with failurePolicy Ignore).\n\n" +
			"Without --cert-manager every run makes a new CA: applying the output again rotates the certificate.",
		Example: "  kubectl -n shipshape create secret generic shipshape-db --from-literal=dsn=postgres://...\n" +
			"  shipshape serve admission manifests --namespace shipshape | kubectl apply -f -",
		Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := deploy.Manifests(o)
			if err != nil {
				return usageError{err}
			}
			return deploy.WriteYAML(cmd.OutOrStdout(), objs)
		}}
	fl := manifests.Flags()
	fl.StringVar(&o.Namespace, "namespace", "", "namespace shipshape runs in (required; always exempt)")
	fl.StringVar(&o.Name, "name", deploy.DefaultName, "name of the objects")
	fl.StringVar(&o.Image, "image", deploy.DefaultImage(Version()), "shipshape's image (build it with make image)")
	fl.Int32Var(&o.Replicas, "replicas", deploy.DefaultReplicas, "`N` replicas of the webhook")
	fl.StringSliceVar(&o.ExemptNamespaces, "exempt", nil, "namespaces never judged, besides kube-system and --namespace")
	fl.StringSliceVar(&o.WarnNamespaces, "warn", nil, "namespaces in warn mode (admitted with warnings; failurePolicy Ignore)")
	fl.Int32Var(&o.TimeoutSeconds, "timeout-seconds", deploy.DefaultTimeoutSeconds, "the webhook's timeoutSeconds, `SECONDS` (2-9: below the API server's 10 s)")
	fl.BoolVar(&o.CertManager, "cert-manager", false, "let cert-manager make the serving certificate and inject the CA")
	fl.StringVar(&o.DatabaseSecret, "db-secret", "", "Secret whose key dsn is the PostgreSQL DSN (default NAME-db)")
	fl.BoolVar(&o.Mutate, "mutate", false, "also register the digest-pinning mutating webhook (pods only)")
	cmd.AddCommand(manifests)
	return cmd
}
