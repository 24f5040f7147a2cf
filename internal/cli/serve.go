package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/notify"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

func init() { extraCommands = append(extraCommands, newServe) }

type serveFlags struct {
	imageFlags
	db         string
	listen     string
	tlsCert    string
	tlsKey     string
	role       string
	policyFor  []string
	refresh    time.Duration
	dataCheck  time.Duration
	ciWorkers  int
	bulkWorker int
	jobTimeout time.Duration
	jobLease   time.Duration
	// admission
	admission     bool
	admMode       string
	admRules      []string
	admExempt     []string
	admBreakGlass string
	admMutate     bool
	admDashboard  string
	admResolve    string
	admDeadline   time.Duration
	viewMaxAge    time.Duration
	notify        string
}

// defaultDSN is sqlite: under the user's data directory.
func defaultDSN() string {
	if v := os.Getenv("SHIPSHAPE_DB"); v != "" {
		return v
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "sqlite:shipshape.db"
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return "sqlite:" + filepath.Join(dir, "shipshape", "shipshape.db")
}

func addDBFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "db", defaultDSN(), "database: sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB (env SHIPSHAPE_DB)")
}

func newServe() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the approved-image service: API, job workers, re-evaluation, admission webhook",
		Long: "serve keeps the fleet's approved images: images are submitted (shipshape submit), judged and stored; approved automatically on PASS or by an approver; judged again each quarter and whenever the advisory data changes, from their stored facts; moved to expiring and then retired when they start failing.\n\n" +
			"It runs on SQLite by default (one process) or on PostgreSQL (any number of processes: --role api serves HTTP only, --role worker runs jobs only; one elected leader runs the daily sweep).\n\n" +
			"Create the first token with: shipshape serve token create --name admin --role admin",
		Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	addDBFlag(cmd, &f.db)
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key, serve HTTPS (needed by the admission webhook)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fl.StringVar(&f.role, "role", "all", "what this process does: all, api (HTTP only) or worker (jobs only)")
	fl.StringArrayVar(&f.policyFor, "policy-for", nil, "bind a policy to repositories, PATTERN=FILE (repeatable; first match wins; --policy is the default)")
	fl.DurationVar(&f.refresh, "refresh", 5*time.Second, "how often the in-memory approvals are reloaded for changes made by other processes")
	fl.DurationVar(&f.viewMaxAge, "view-max-age", 2*time.Minute, "when the in-memory approvals could not be reloaded for this long, allow decisions stop (admission denies in enforce mode)")
	fl.DurationVar(&f.dataCheck, "data-check", 30*time.Second, "how often the advisory database directory is checked for an update (shipshape db update/import)")
	fl.IntVar(&f.ciWorkers, "ci-workers", 4, "concurrent CI submissions in this process")
	fl.IntVar(&f.bulkWorker, "bulk-workers", 2, "concurrent re-evaluations in this process")
	fl.DurationVar(&f.jobTimeout, "job-timeout", 15*time.Minute, "a job running longer is cancelled and retried")
	fl.DurationVar(&f.jobLease, "job-lease", 0, "a job whose process died is run again after this long (default: job timeout + 5 min)")
	fl.BoolVar(&f.admission, "admission", false, "serve the Kubernetes admission webhook on /admission/v1/validate (see docs/admission.md)")
	fl.StringVar(&f.admMode, "admission-mode", "enforce", "admission mode when no rule matches: enforce, warn or audit")
	fl.StringArrayVar(&f.admRules, "admission-rule", nil, "mode of some namespaces, NAMESPACES=MODE (e.g. staging,team-*=warn; repeatable, first match wins)")
	fl.StringSliceVar(&f.admExempt, "admission-exempt", []string{"kube-system"}, "namespaces the webhook never judges")
	fl.StringVar(&f.admBreakGlass, "break-glass-sha256", "", "hex SHA-256 of the break-glass token (empty: no break-glass)")
	fl.BoolVar(&f.admMutate, "admission-mutate", false, "also serve /admission/v1/mutate, which pins tags to approved digests")
	fl.StringVar(&f.admDashboard, "dashboard-url", "", "base URL of the dashboard, linked from denial messages")
	fl.DurationVar(&f.admDeadline, "admission-deadline", admission.DefaultDeadline, "longest an admission decision may take; keep it 1-2 s below the webhook's timeoutSeconds")
	fl.StringVar(&f.admResolve, "admission-resolve", "registry", "how tags in pod specs become digests: registry (HEAD, cached) or submitted (the digest last submitted under the tag)")
	fl.StringVar(&f.notify, "notify", "", "outgoing webhooks: a YAML or JSON `FILE` of webhooks per repository pattern and event (see docs/serve.md, Notifications)")
	addImageFlags(fl, &f.imageFlags, true)
	cmd.AddCommand(newServeToken(), newServeAdmission())
	return cmd
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	ctx := cmd.Context()
	log := slog.Default()
	if f.role != "all" && f.role != "api" && f.role != "worker" {
		return usageError{fmt.Errorf("--role: want all, api or worker, got %q", f.role)}
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	pols, err := loadPolicies(f)
	if err != nil {
		return err
	}
	open := func() (*engine.Engine, func(), error) { return f.newEngine(cmd, true) }
	eng, release, err := open()
	if err != nil {
		return err
	}
	if f.jobLease != 0 && f.jobLease <= f.jobTimeout {
		return usageError{fmt.Errorf("--job-lease (%s) must be longer than --job-timeout (%s)", f.jobLease, f.jobTimeout)}
	}
	qc := store.QueueConfig{CIWorkers: f.ciWorkers, BulkWorkers: f.bulkWorker, JobTimeout: f.jobTimeout, RescueAfter: f.jobLease}
	jobs := fleet.RegisterJobs(&qc)
	var notifier *notify.Notifier
	if f.notify != "" {
		nc, err := notify.Load(f.notify)
		if err != nil {
			release()
			return usageError{fmt.Errorf("--notify: %w", err)}
		}
		notifier = notify.Register(&qc, nc, notify.Options{DashboardURL: f.admDashboard, Log: log})
	}
	if f.role == "api" {
		qc = store.QueueConfig{LeaderElectionDisabled: true}
	}
	st, err := store.Open(ctx, f.db, store.WithQueue(qc), store.WithLogger(log))
	if err != nil {
		release()
		if errors.Is(err, store.ErrSchemaTooNew) {
			return usageError{fmt.Errorf("%w: upgrade shipshape to serve this database", err)}
		}
		return usageError{fmt.Errorf("--db: %w", err)}
	}
	defer st.Close()
	var srv *server.Server
	fopts := []fleet.Option{fleet.WithLogger(log), fleet.WithOnChange(func() {
		if srv != nil {
			srv.Changed()
		}
	})}
	if notifier != nil {
		fopts = append(fopts, fleet.WithHook(notifier))
	}
	fl, err := fleet.New(st, eng, release, pols, fopts...)
	if err != nil {
		return err
	}
	defer fl.Close()
	jobs.Bind(fl)
	if notifier != nil {
		notifier.Bind(fl)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if f.role != "api" {
		if err := st.Queue().Start(ctx); err != nil {
			return fmt.Errorf("starting the job queue: %w", err)
		}
		defer func() {
			stopCtx, c := context.WithTimeout(context.Background(), 30*time.Second)
			defer c()
			_ = st.Queue().Stop(stopCtx)
		}()
		dir := f.vulnDir
		if dir == "" {
			dir, _ = vulndb.DefaultDir()
		}
		go fl.WatchData(ctx, dir, f.dataCheck, open)
	}
	if f.role == "worker" {
		log.Info("shipshape worker running", "db", st.Backend())
		<-ctx.Done()
		return nil
	}
	if f.viewMaxAge <= f.refresh {
		return usageError{fmt.Errorf("--view-max-age (%s) must be longer than --refresh (%s)", f.viewMaxAge, f.refresh)}
	}
	cfg := server.Config{Fleet: fl, Refresh: f.refresh, MaxAge: f.viewMaxAge, Log: log}
	if f.admission {
		mode, err := admission.ParseMode(f.admMode)
		if err != nil {
			return usageError{fmt.Errorf("--admission-mode: %w", err)}
		}
		cfg.Admission = &admission.Config{DefaultMode: mode, ExemptNamespaces: f.admExempt, BreakGlassTokenSHA256: f.admBreakGlass,
			EnableMutation: f.admMutate, DashboardURL: f.admDashboard, Deadline: f.admDeadline}
		for _, r := range f.admRules {
			rule, err := admission.ParseModeRule(r)
			if err != nil {
				return usageError{fmt.Errorf("--admission-rule: %w", err)}
			}
			cfg.Admission.Rules = append(cfg.Admission.Rules, rule)
		}
		switch f.admResolve {
		case "registry":
			cfg.Resolver = admission.NewCachingResolver(admission.RemoteHead(eng.RemoteOptions()...), admission.CacheOptions{})
		case "submitted":
		default:
			return usageError{fmt.Errorf("--admission-resolve: want registry or submitted, got %q", f.admResolve)}
		}
	}
	srv, err = server.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := srv.Refresh(ctx); err != nil {
		return fmt.Errorf("loading the approvals: %w", err)
	}
	go srv.Run(ctx)
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return usageError{fmt.Errorf("--listen: %w", err)}
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return usageError{fmt.Errorf("--tls-cert/--tls-key: %w", err)}
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
		scheme = "https"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "shipshape serve: listening on %s://%s (db %s, role %s)\n", scheme, ln.Addr(), st.Backend(), f.role)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
	defer c()
	return hs.Shutdown(shutCtx)
}

// loadPolicies reads --policy (the default) and every --policy-for.
func loadPolicies(f serveFlags) (*fleet.Policies, error) {
	pols := &fleet.Policies{Default: policy.Default()}
	if f.policyFile != "" {
		p, err := policy.LoadFile(f.policyFile)
		if err != nil {
			return nil, err
		}
		pols.Default = p
	}
	for _, b := range f.policyFor {
		pattern, file, err := fleet.ParseBinding(b)
		if err != nil {
			return nil, usageError{fmt.Errorf("--policy-for: %w", err)}
		}
		p, err := policy.LoadFile(file)
		if err != nil {
			return nil, err
		}
		pols.Bindings = append(pols.Bindings, fleet.Binding{Pattern: pattern, Policy: p})
	}
	return pols, nil
}

func newServeToken() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list and revoke API tokens", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("say what to do: shipshape serve token create|list|revoke")}
		}}
	var db, name, role string
	create := &cobra.Command{Use: "create", Short: "Create a token (printed once; only its hash is stored)", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !server.ValidRole(role) {
				return usageError{fmt.Errorf("--role: want viewer, submitter, approver or admin, got %q", role)}
			}
			if strings.TrimSpace(name) == "" {
				return usageError{errors.New("--name is required: who or what the token is for")}
			}
			st, err := openStore(cmd, db)
			if err != nil {
				return err
			}
			defer st.Close()
			token, id, err := server.CreateToken(cmd.Context(), st, name, role, "cli:"+currentUser())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token %d (%s, role %s) created; it is shown once:\n", id, name, role)
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		}}
	addDBFlag(create, &db)
	create.Flags().StringVar(&name, "name", "", "who or what the token is for (shown in the audit log)")
	create.Flags().StringVar(&role, "role", "viewer", "viewer, submitter, approver or admin")
	list := &cobra.Command{Use: "list", Short: "List tokens (never their secrets)", Args: argsNone,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd, db)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			for _, t := range ts {
				state := "live"
				if !t.RevokedAt.IsZero() {
					state = "revoked " + t.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, state)
			}
			return nil
		}}
	addDBFlag(list, &db)
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke a token", Args: argsExactly(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			if _, err := fmt.Sscan(args[0], &id); err != nil || id <= 0 {
				return usageError{fmt.Errorf("want a token ID (shipshape serve token list), got %q", args[0])}
			}
			st, err := openStore(cmd, db)
			if err != nil {
				return err
			}
			defer st.Close()
			return st.Tx(cmd.Context(), func(tx *store.Tx) error {
				if err := tx.RevokeToken(id, time.Now()); err != nil {
					return err
				}
				_, err := tx.AppendEvent(store.Event{Actor: "cli:" + currentUser(), Action: "token.revoked", Subject: fmt.Sprintf("token/%d", id)})
				return err
			})
		}}
	addDBFlag(revoke, &db)
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func openStore(cmd *cobra.Command, dsn string) (*store.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, usageError{fmt.Errorf("--db: %w", err)}
		}
	}
	st, err := store.Open(cmd.Context(), dsn, store.WithLogger(slog.Default()))
	if err != nil {
		return nil, usageError{fmt.Errorf("--db: %w", err)}
	}
	return st, nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// argsNone refuses arguments as a usage error (exit 2).
func argsNone(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %s (usage: %s)", cmd.CommandPath(), countArgs(len(args)), cmd.UseLine())}
	}
	return nil
}

// argsExactly wants n arguments, as a usage error (exit 2).
func argsExactly(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %s, got %d (usage: %s)", cmd.CommandPath(), countArgs(n), len(args), cmd.UseLine())}
		}
		return nil
	}
}
