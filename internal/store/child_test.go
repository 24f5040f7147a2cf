package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// The multi-process tests run this test binary again as a child process, with
// these variables naming its role and database.
const (
	childEnv    = "SHIPSHAPE_STORE_CHILD"
	childDSNEnv = "SHIPSHAPE_STORE_CHILD_DSN"
)

// countArgs is the job of the exactly-once test.
type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "test_count" }

// slowArgs is a job that blocks until its process dies.
type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

func runChild(role string) int {
	dsn := os.Getenv(childDSNEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var err error
	switch role {
	case "exactly-once":
		err = childExactlyOnce(ctx, dsn)
	case "kill-writer":
		err = childKillWriter(ctx, dsn)
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// childExactlyOnce works countArgs jobs: each records an event and completes
// its job in the same transaction, until SIGTERM.
func childExactlyOnce(ctx context.Context, dsn string) error {
	actor := "pid:" + strconv.Itoa(os.Getpid())
	cfg := fastQueue()
	var s *Store
	AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[countArgs]) error {
		time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond)
		return s.Tx(ctx, func(tx *Tx) error {
			if _, err := tx.AppendEvent(Event{Actor: actor, Action: "test.work", Subject: "job/" + strconv.FormatInt(job.ID, 10)}); err != nil {
				return err
			}
			return CompleteJob(tx, job)
		})
	}))
	var err error
	s, err = Open(context.Background(), dsn, WithQueue(cfg), WithMaxConns(8))
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Queue().Start(context.Background()); err != nil {
		return err
	}
	fmt.Println("started")
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Queue().Stop(stopCtx)
}

// childKillWriter writes image + evaluation + event + job transactions in a
// loop, slowly, so that a SIGKILL lands mid-transaction, while a worker holds
// a slowArgs job until the process dies. It prints "committed I" after each
// commit and "working ID" when the slow job starts.
func childKillWriter(ctx context.Context, dsn string) error {
	cfg := fastQueue()
	cfg.JobTimeout = time.Hour // the slow job must outlive us
	cfg.RescueAfter = 2 * time.Hour
	cfg.LeaderElectionDisabled = true // the parent leads after the crash at once
	AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[slowArgs]) error {
		fmt.Printf("working %d\n", job.ID)
		<-ctx.Done()
		return ctx.Err()
	}))
	AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[judgeArgs]) error { return nil }))
	s, err := Open(context.Background(), dsn, WithQueue(cfg))
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Queue().Start(ctx); err != nil {
		return err
	}
	for i := 0; ctx.Err() == nil; i++ {
		d := fmt.Sprintf("sha256:kill-%d", i)
		fmt.Printf("begin %d\n", i)
		err := s.Tx(ctx, func(tx *Tx) error {
			if err := tx.UpsertImage(Image{Digest: d, Repository: "kill", Tag: strconv.Itoa(i)}); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
			if _, err := tx.AddEvaluation(Evaluation{ImageDigest: d, Verdict: "PASS", Report: []byte(`{"i":` + strconv.Itoa(i) + `}`),
				Findings: []FindingKey{{Fingerprint: "a", Check: "SEC-001"}, {Fingerprint: "b", Check: "SEC-020"}}}); err != nil {
				return err
			}
			if err := tx.PutFacts(Facts{ImageDigest: d, Version: "1", Data: make([]byte, 4096), Packages: []string{"deb/openssl", "deb/p" + strconv.Itoa(i)}}); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
			if _, err := tx.AppendEvent(Event{Actor: "child", Action: "kill.write", Subject: d}); err != nil {
				return err
			}
			_, err := tx.Enqueue(judgeArgs{Image: d, Reason: "submit"}, OnBulk(0))
			return err
		})
		if err != nil {
			return err
		}
		fmt.Printf("committed %d\n", i)
	}
	return nil
}

// child is a running child process of this test binary.
type child struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	stderr strings.Builder
	done   chan struct{}
}

func startChild(t *testing.T, role, dsn string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), childEnv+"="+role, childDSNEnv+"="+dsn)
	c.cmd.Stderr = &lockedWriter{mu: &c.mu, w: &c.stderr}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
		}
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
		_ = c.cmd.Wait()
	})
	return c
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// output returns the lines printed so far, and stderr.
func (c *child) output() ([]string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...), c.stderr.String()
}

// TestTwoWorkerProcesses: two processes work one PostgreSQL queue; every job
// runs exactly once (its effect and its completion share a transaction).
func TestTwoWorkerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dsn := postgresDSN(t)
	s := openStore(t, dsn)
	ctx := ctxT(t)
	const n = 400
	mustTx(t, s, func(tx *Tx) error {
		for i := 0; i < n; i++ {
			opts := OnCI(0)
			if i%2 == 1 {
				opts = OnBulk(0)
			}
			if _, err := tx.Enqueue(countArgs{N: i}, opts); err != nil {
				return err
			}
		}
		return nil
	})
	a, b := startChild(t, "exactly-once", dsn), startChild(t, "exactly-once", dsn)
	countEvents := func() []Event {
		evs, err := s.Events(ctx, EventFilter{Action: "test.work", Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	waitFor(t, 90*time.Second, "every job to be worked", func() bool {
		for _, c := range []*child{a, b} {
			select {
			case <-c.done:
				_, stderr := c.output()
				t.Fatalf("a worker process exited early: %s", stderr)
			default:
			}
		}
		return len(countEvents()) >= n
	})
	time.Sleep(500 * time.Millisecond) // let any duplicate show up
	for _, c := range []*child{a, b} {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, c := range []*child{a, b} {
		if err := c.cmd.Wait(); err != nil {
			_, stderr := c.output()
			t.Errorf("worker process: %v\n%s", err, stderr)
		}
	}
	evs := countEvents()
	perJob := map[string]int{}
	perActor := map[string]int{}
	for _, e := range evs {
		perJob[e.Subject]++
		perActor[e.Actor]++
	}
	if len(evs) != n || len(perJob) != n {
		t.Errorf("%d events for %d distinct jobs, want %d each", len(evs), len(perJob), n)
	}
	for j, k := range perJob {
		if k != 1 {
			t.Errorf("%s ran %d times", j, k)
		}
	}
	if len(perActor) != 2 {
		t.Errorf("work was not shared by both processes: %v", perActor)
	}
	t.Logf("jobs per process: %v", perActor)
	jobs, err := s.Queue().Jobs(ctx, JobFilter{Kind: "test_count", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.State != "completed" || j.Attempt != 1 {
			t.Errorf("job %d: %s after %d attempts", j.ID, j.State, j.Attempt)
		}
	}
}

// TestKill9 kills a child process with SIGKILL while it is inside write
// transactions and holds a running job, then checks on reopening that every
// acknowledged commit is there, no transaction is half there, and the job is
// rescued after its lease and run again.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const iterations = 3
	eachBackend(t, func(t *testing.T, _ string) {
		b := backendNamed(t.Name())
		for it := 0; it < iterations; it++ {
			t.Run(strconv.Itoa(it), func(t *testing.T) { killOnce(t, b.dsn(t)) })
		}
	})
}

func backendNamed(testName string) backend {
	for _, b := range backends() {
		if strings.HasSuffix(testName, "/"+b.name) {
			return b
		}
	}
	panic(testName)
}

func killOnce(t *testing.T, dsn string) {
	ctx := ctxT(t)
	s := openStore(t, dsn)
	var slowID int64
	mustTx(t, s, func(tx *Tx) error {
		res, err := tx.Enqueue(slowArgs{}, OnCI(0))
		slowID = res.JobID
		return err
	})
	s.Close()

	c := startChild(t, "kill-writer", dsn)
	minCommits := 3 + rand.IntN(20)
	var workingAt time.Time
	waitFor(t, 60*time.Second, "the child to commit and start the slow job", func() bool {
		select {
		case <-c.done:
			_, stderr := c.output()
			t.Fatalf("child exited: %s", stderr)
		default:
		}
		lines, _ := c.output()
		commits, working := 0, false
		for _, l := range lines {
			if strings.HasPrefix(l, "committed ") {
				commits++
			}
			if l == fmt.Sprintf("working %d", slowID) {
				working = true
			}
		}
		if working && workingAt.IsZero() {
			workingAt = time.Now()
		}
		return working && commits >= minCommits
	})
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	_ = c.cmd.Wait()
	lines, _ := c.output()
	committed := map[string]bool{}
	midTx := false // the last transaction begun was not acknowledged
	for _, l := range lines {
		if i, ok := strings.CutPrefix(l, "committed "); ok {
			committed["sha256:kill-"+i] = true
			midTx = false
		}
		if strings.HasPrefix(l, "begin ") {
			midTx = true
		}
	}

	// Reopen as the new leader, with a short lease.
	const rescueAfter = 2 * time.Second
	time.Sleep(time.Until(workingAt.Add(rescueAfter + 200*time.Millisecond)))
	var mu sync.Mutex
	var slowRuns []int
	cfg := fastQueue()
	cfg.JobTimeout, cfg.RescueAfter = time.Second, rescueAfter
	AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[slowArgs]) error {
		mu.Lock()
		slowRuns = append(slowRuns, job.Attempt)
		mu.Unlock()
		return nil
	}))
	AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[judgeArgs]) error { return nil }))
	s = openStore(t, dsn, WithQueue(cfg))

	// No acknowledged commit is lost; nothing is half written.
	for d := range committed {
		if _, err := s.Image(ctx, d); err != nil {
			t.Errorf("committed image lost: %v", err)
		}
	}
	images, total, err := s.ListImages(ctx, ImageFilter{Repository: "kill", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(committed) && total != len(committed)+1 {
		t.Errorf("%d images after the crash, %d acknowledged", total, len(committed))
	}
	for _, im := range images {
		evs, err := s.Evaluations(ctx, im.Digest, 0)
		if err != nil || len(evs) != 1 || im.EvaluationID != evs[0].ID {
			t.Errorf("%s: evaluations %d, %v", im.Digest, len(evs), err)
		}
		if f, err := s.Facts(ctx, im.Digest); err != nil || len(f.Packages) != 2 || len(f.Data) != 4096 {
			t.Errorf("%s: facts %v", im.Digest, err)
		}
		if ev, _ := s.Events(ctx, EventFilter{Subject: im.Digest}); len(ev) != 1 {
			t.Errorf("%s: %d events", im.Digest, len(ev))
		}
	}
	if evs, _ := s.Events(ctx, EventFilter{Action: "kill.write", Limit: 10000}); len(evs) != total {
		t.Errorf("%d events for %d images", len(evs), total)
	}
	jobs, err := s.Queue().Jobs(ctx, JobFilter{Kind: "test_judge", Limit: 10000})
	if err != nil || len(jobs) != total {
		t.Errorf("%d jobs for %d images (%v)", len(jobs), total, err)
	}
	if orphans, _ := s.ImagesByPackages(ctx, []string{"deb/openssl"}); len(orphans) != total {
		t.Errorf("%d facts for %d images", len(orphans), total)
	}

	// The job the dead process held is rescued after its lease and runs again.
	if err := s.Queue().Start(ctx); err != nil {
		t.Fatal(err)
	}
	var job Job
	waitFor(t, 45*time.Second, "the abandoned job to be retried", func() bool {
		job, err = s.Queue().Job(ctx, slowID)
		return err == nil && job.State == "completed"
	})
	mu.Lock()
	defer mu.Unlock()
	if job.Attempt != 2 || len(slowRuns) != 1 || slowRuns[0] != 2 {
		t.Errorf("rescued job: attempt %d, runs %v, errors %q", job.Attempt, slowRuns, job.Errors)
	}
	t.Logf("killed mid-transaction: %v; %d acknowledged commits, %d images, abandoned job rescued after %s: %q", midTx, len(committed), total, time.Since(workingAt).Round(time.Millisecond), job.Errors)
}
