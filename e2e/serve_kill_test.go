package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

// kill9Rounds is how many times TestServeKill9 kills serve (env
// SHIPSHAPE_KILL9_ROUNDS overrides it).
func kill9Rounds() int {
	n := 5
	if v := os.Getenv("SHIPSHAPE_KILL9_ROUNDS"); v != "" {
		fmt.Sscan(v, &n)
	}
	return n
}

// kill -9 of serve in the middle of submissions and re-evaluations loses no
// committed record and leaves no job stuck, and the next start serves; on
// both backends, in a loop.
func TestServeKill9(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			testKill9(t, dsn)
		})
	}
}

func testKill9(t *testing.T, dsn string) {
	const lease = 8 * time.Second
	env := processEnv()
	admin := createToken(t, env, dsn, "kill9-admin", "admin")
	addr := freeAddr(t)
	args := []string{"--db", dsn, "--job-timeout", "5s", "--job-lease", lease.String(), "--skip-vulns", "--offline", "--refresh", "500ms"}
	srv := startServe(t, env, addr, args...)
	reg := imagetest.Registry(t)
	clientEnv := processEnv("SHIPSHAPE_SERVER="+srv.url, "SHIPSHAPE_TOKEN="+admin)

	// submitFacts runs `shipshape submit oci:DIR` of a new image; it returns
	// the digest when the service answered with an evaluation.
	submitFacts := func(tag string) (string, bool) {
		ref := "registry.example.com/kill9/app:" + tag
		in := imagetest.WriteLayout(t, t.TempDir(), imagetest.Image(t, serveSpec(tag)), ref)
		r := runWith(t, clientEnv, "submit", "--format", "json", "--ref", ref, "--no-cache", in)
		if r.code != 0 {
			if r.code != 2 || !strings.Contains(r.stderr, "calling ") {
				t.Errorf("submit %s: exit %d\n%s%s", tag, r.code, r.stdout, r.stderr)
			}
			return "", false
		}
		var a submitAnswer
		if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || a.Evaluation == nil || a.Evaluation.State != "approved" {
			t.Errorf("submit %s: %v %s", tag, err, r.stdout)
			return "", false
		}
		return a.Evaluation.Digest, true
	}
	// pushed: a new image in the registry, by reference and digest.
	push := func(tag string) (string, string) {
		ref := reg + "/kill9/web:" + tag
		img := imagetest.Image(t, serveSpec("web-"+tag))
		tg, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tg, img); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return ref, d.String()
	}

	// What the service acknowledged: facts submissions (committed with their
	// answer) and jobs (committed with their 202).
	committed := map[string]string{} // digest -> tag
	type accepted struct {
		job    int64
		kind   string
		digest string
	}
	var jobs []accepted
	var known []string // digests to re-evaluate
	for i := range 2 {
		d, ok := submitFacts(fmt.Sprintf("seed%d", i))
		if !ok {
			t.Fatalf("seed submission failed:\n%s", srv.output())
		}
		committed[d] = fmt.Sprintf("seed%d", i)
		known = append(known, d)
	}

	const perKind = 4
	for round := range kill9Rounds() {
		var refs, refDigests []string
		for i := range perKind {
			ref, d := push(fmt.Sprintf("r%d-%d", round, i))
			refs, refDigests = append(refs, ref), append(refDigests, d)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range perKind {
			tag := fmt.Sprintf("r%d-%d", round, i)
			wg.Add(3)
			go func() {
				defer wg.Done()
				<-start
				if d, ok := submitFacts(tag); ok {
					mu.Lock()
					committed[d] = tag
					known = append(known, d)
					mu.Unlock()
				}
			}()
			go func() {
				defer wg.Done()
				<-start
				time.Sleep(time.Duration(i) * 50 * time.Millisecond)
				var a submitAnswer
				code, _, err := apiCall(t, srv.url, admin, "POST", "/api/v1/images?wait=0s", map[string]string{"image": refs[i]}, &a)
				if err == nil && code == 202 && a.Job != nil {
					mu.Lock()
					jobs = append(jobs, accepted{a.Job.ID, "shipshape.submit", refDigests[i]})
					mu.Unlock()
				} else if err == nil {
					t.Errorf("submit %s: %d", refs[i], code)
				}
			}()
			mu.Lock()
			d := known[rand.IntN(len(known))]
			mu.Unlock()
			go func() {
				defer wg.Done()
				<-start
				time.Sleep(time.Duration(i) * 70 * time.Millisecond)
				var a submitAnswer
				code, _, err := apiCall(t, srv.url, admin, "POST", "/api/v1/images/"+d+"/reevaluate?wait=0s", nil, &a)
				if err == nil && code == 202 && a.Job != nil {
					mu.Lock()
					jobs = append(jobs, accepted{a.Job.ID, "shipshape.evaluate", d})
					mu.Unlock()
				} else if err == nil {
					t.Errorf("reevaluate %s: %d", d, code)
				}
			}()
		}
		close(start)
		killAfter := time.Duration(100+rand.IntN(1400)) * time.Millisecond
		time.Sleep(killAfter)
		srv.kill9()
		wg.Wait()
		t.Logf("round %d: killed after %s; %d facts submissions and %d jobs acknowledged so far", round, killAfter, len(committed), len(jobs))

		srv = startServe(t, env, addr, args...)
		// Every acknowledged facts submission is there, judged and approved.
		for d, tag := range committed {
			var im imageDetail
			mustAPI(t, srv.url, admin, "GET", "/api/v1/images/"+d, nil, 200, &im)
			if len(im.Evaluations) == 0 || im.Approval == nil || im.Approval.State != "approved" {
				t.Fatalf("round %d: submission %s (%s) after the restart: %+v", round, tag, d, im)
			}
		}
		var al struct{ Allowed bool }
		mustAPI(t, srv.url, admin, "GET", "/api/v1/allowed?image=registry.example.com/kill9/app@"+known[0], nil, 200, &al)
		if !al.Allowed {
			t.Fatalf("round %d: %s is not allowed after the restart", round, known[0])
		}
	}

	// After the lease, every acknowledged job ran to its end: the rescuer
	// gives the killed ones back to the workers.
	all := waitJobsSettled(t, srv.url, admin, lease, 4*time.Minute)
	byID := map[int64]jobJSON{}
	for _, j := range all {
		byID[j.ID] = j
	}
	rescued := 0
	for _, a := range jobs {
		j, ok := byID[a.job]
		if !ok {
			t.Errorf("acknowledged job %d (%s %s) is gone", a.job, a.kind, a.digest)
			continue
		}
		if j.Attempt > 1 {
			rescued++
		}
		switch {
		case j.State == "completed":
		case j.State == "discarded" && len(j.Errors) > 0:
			t.Logf("job %d discarded with errors %q", j.ID, j.Errors)
			continue
		default:
			t.Errorf("job %d (%s): state %s, errors %q", j.ID, a.kind, j.State, j.Errors)
			continue
		}
		var im imageDetail
		mustAPI(t, srv.url, admin, "GET", "/api/v1/images/"+a.digest, nil, 200, &im)
		if len(im.Evaluations) == 0 || im.Approval == nil || im.Approval.State != "approved" {
			t.Errorf("job %d (%s) completed, but %s is %+v", j.ID, a.kind, a.digest, im)
		}
	}
	t.Logf("%d acknowledged jobs, %d of them run again after a kill; %d facts submissions", len(jobs), rescued, len(committed))
	var list struct{ Total int }
	mustAPI(t, srv.url, admin, "GET", "/api/v1/images?limit=1", nil, 200, &list)
	if list.Total < len(committed) {
		t.Errorf("%d images listed, %d committed", list.Total, len(committed))
	}
}
