package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

// One `serve --role api` and two `serve --role worker` processes on one
// PostgreSQL database: every job enqueued through the API is done exactly
// once (one evaluation per job, none twice), and the work is shared.
func TestServeTwoWorkers(t *testing.T) {
	dsn := storetest.Postgres(t)
	env := processEnv()
	admin := createToken(t, env, dsn, "workers-admin", "admin")
	common := []string{"--db", dsn, "--skip-vulns", "--offline", "--log-level", "info"}
	api := startServe(t, env, freeAddr(t), append([]string{"--role", "api", "--refresh", "500ms"}, common...)...)
	var workers []*serveProc
	for range 2 {
		workers = append(workers, startServe(t, env, freeAddr(t), append([]string{"--role", "worker", "--ci-workers", "2", "--bulk-workers", "2"}, common...)...))
	}
	clientEnv := processEnv("SHIPSHAPE_SERVER="+api.url, "SHIPSHAPE_TOKEN="+admin)

	// Facts submissions are judged by the API process itself.
	seedEval := map[string]int64{} // digest -> its first evaluation
	var seeds []string
	for i := range 4 {
		ref := fmt.Sprintf("registry.example.com/workers/app:%d", i)
		in := imagetest.WriteLayout(t, t.TempDir(), imagetest.Image(t, serveSpec(fmt.Sprintf("w%d", i))), ref)
		r := runWith(t, clientEnv, "submit", "--format", "json", "--ref", ref, "--no-cache", in)
		var a submitAnswer
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &a) != nil || a.Evaluation == nil {
			t.Fatalf("submit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		seedEval[a.Evaluation.Digest] = a.Evaluation.EvaluationID
		seeds = append(seeds, a.Evaluation.Digest)
	}

	reg := imagetest.Registry(t)
	ours := map[int64]string{} // job -> digest
	for i := range 8 {
		ref := fmt.Sprintf("%s/workers/web:%d", reg, i)
		img := imagetest.Image(t, serveSpec(fmt.Sprintf("web%d", i)))
		tg, _ := name.NewTag(ref)
		if err := remote.Write(tg, img); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		var a submitAnswer
		mustAPI(t, api.url, admin, "POST", "/api/v1/images?wait=0s", map[string]string{"image": ref}, 202, &a)
		ours[a.Job.ID] = d.String()
	}
	for i := range 40 {
		d := seeds[i%len(seeds)]
		var a submitAnswer
		mustAPI(t, api.url, admin, "POST", "/api/v1/images/"+d+"/reevaluate?wait=0s", nil, 202, &a)
		ours[a.Job.ID] = d
	}

	all := waitJobsSettled(t, api.url, admin, time.Minute, 3*time.Minute)
	evalOf := map[int64]int64{} // evaluation -> job
	byDigest := map[string][]int64{}
	for _, j := range all {
		d, ok := ours[j.ID]
		if !ok {
			continue
		}
		delete(ours, j.ID)
		var out struct {
			Digest       string `json:"digest"`
			EvaluationID int64  `json:"evaluation_id"`
		}
		if j.State != "completed" || j.Attempt != 1 || json.Unmarshal(j.Output, &out) != nil || out.Digest != d || out.EvaluationID == 0 {
			t.Errorf("job %d (%s): state %s, attempt %d, errors %q, output %s", j.ID, j.Kind, j.State, j.Attempt, j.Errors, j.Output)
			continue
		}
		if other, dup := evalOf[out.EvaluationID]; dup {
			t.Errorf("jobs %d and %d recorded the same evaluation %d", other, j.ID, out.EvaluationID)
		}
		evalOf[out.EvaluationID] = j.ID
		byDigest[d] = append(byDigest[d], out.EvaluationID)
	}
	if len(ours) > 0 {
		t.Errorf("jobs not listed: %v", ours)
	}
	// The evaluations of each image are exactly its jobs' (and its
	// submission's): no job judged it twice.
	for d, ids := range byDigest {
		if e, ok := seedEval[d]; ok {
			ids = append(ids, e)
		}
		var im imageDetail
		mustAPI(t, api.url, admin, "GET", "/api/v1/images/"+d, nil, 200, &im)
		var got []int64
		for _, e := range im.Evaluations {
			got = append(got, e.ID)
		}
		slices.Sort(ids)
		slices.Sort(got)
		if !slices.Equal(ids, got) {
			t.Errorf("%s: evaluations %v, jobs and submission recorded %v", d, got, ids)
		}
		if im.Approval == nil || im.Approval.State != "approved" {
			t.Errorf("%s: approval %+v", d, im.Approval)
		}
	}

	// Who did the work: River records the client of each attempt.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT attempted_by[array_length(attempted_by, 1)], COUNT(*) FROM river_job WHERE kind IN ('shipshape.evaluate', 'shipshape.submit') GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var by []string
	for rows.Next() {
		var who string
		var n int
		if err := rows.Scan(&who, &n); err != nil {
			t.Fatal(err)
		}
		by = append(by, fmt.Sprintf("%s: %d", who, n))
	}
	t.Logf("jobs by worker: %s", strings.Join(by, ", "))
	if len(by) < 2 {
		t.Logf("only one worker took jobs (allowed, but unusual)")
	}
	for _, w := range workers {
		if strings.Contains(w.output(), "panic") {
			t.Errorf("a worker panicked:\n%s", w.output())
		}
	}
}
