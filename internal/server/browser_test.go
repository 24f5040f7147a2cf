package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// browser starts headless Chromium (Debian's chromium) driven through the
// DevTools protocol. Under CI a missing browser fails the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, c := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(c); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must install chromium")
		}
		t.Skip("no chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first Run starts the browser and must not carry a timeout.
	if _, err := chromedp.Run(ctx, chromedp.Title()); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// osvRecords imports real Debian OSV records into a new database.
func osvRecords(t *testing.T, ids ...string) *vulndb.DB { return imagetest.OSVDB(t, "Debian", ids...) }

// shots is where screenshots go: SHIPSHAPE_SCREENSHOTS, else a temporary directory.
func shots(t *testing.T) string {
	if d := os.Getenv("SHIPSHAPE_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return t.TempDir()
}

// The dashboard in a real browser, on a real store with images really
// submitted: sign-in, the fleet table, the image page naming the failing
// CVE with its evidence and fix, hostile text escaped, a form refused
// without its CSRF token, an approval and an exception made in the browser
// and seen by the API.
func TestDashboardInChromium(t *testing.T) {
	db := osvRecords(t, "CVE-2023-5363", "DSA-5532-1")
	e := newEnvWith(t, storetest.SQLite(t), engine.Deps{Vulns: db})
	// A vulnerable image (libssl3 fixed in deb12u2) whose secret file sits
	// under a hostile path.
	vuln := spec("app")
	for i, f := range vuln.Layers[0] {
		if f.Path == "/var/lib/dpkg/status" {
			vuln.Layers[0][i].Content += "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
		}
	}
	hostile := `/srv/<script>alert("x")</script>'quoted'` + strings.Repeat("-long", 50)
	vuln.Layers[1] = append(vuln.Layers[1], imagetest.Text(hostile+"/.env", "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\nAWS_SECRET_ACCESS_KEY=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\n"))
	vuln.Config.Labels = map[string]string{"org.opencontainers.image.title": `<img src=x onerror=alert(1)>`, "org.opencontainers.image.source": "https://github.com/example/app"}
	var sub submitResp
	e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(vuln, "registry.example.com/team/vuln:1.0"), 201, &sub)
	bad := *sub.Evaluation
	sub = submitResp{}
	if bad.Pass {
		t.Fatalf("the vulnerable image passes: %+v", bad)
	}
	e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(spec("app"), "registry.example.com/team/good:1.0"), 201, &sub)
	good := *sub.Evaluation

	ctx := browser(t)
	dir := shots(t)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		})
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("#%s: %v", id, err)
		}
		return v
	}
	do(chromedp.Navigate(e.http.URL+"/images/"+bad.Digest),
		chromedp.WaitVisible(chromedp.ID("token")), // redirected to sign in
		shot("login"),
		chromedp.SendKeys(chromedp.ID("token"), e.tokens["approver"]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("why")), // back where the link pointed
		shot("image-blocked"))
	why := text("why")
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("script, img").length`))
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.Navigate(e.http.URL+"/"), chromedp.WaitVisible(chromedp.ID("fleet")), shot("fleet"))
	fleet := text("fleet")
	for _, want := range []string{"registry.example.com/team/vuln:1.0", "registry.example.com/team/good:1.0", "rejected", "approved", "SEC-020"} {
		if !strings.Contains(fleet, want) {
			t.Errorf("fleet table lacks %q:\n%s", want, fleet)
		}
	}
	for _, want := range []string{"CVE-2023-5363", "deb/openssl", "Fix:", "CMP-004", `<script>alert("x")</script>'quoted'`} {
		if !strings.Contains(why, want) {
			t.Errorf("why blocked lacks %q:\n%s", want, why)
		}
	}
	if scripts != 0 {
		t.Errorf("hostile text became %d elements", scripts)
	}

	// A form without its CSRF token is refused; with it, the approval lands.
	do(chromedp.Navigate(e.http.URL+"/images/"+bad.Digest),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('#approve input[name=csrf]').remove(), true`)(ctx, tg)
			return err
		}),
		chromedp.SetValue(chromedp.CSS(`#approve input[name=reason]`), "x"),
		chromedp.Submit(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.ID("error")),
		shot("csrf-refused"))
	if errText := text("error"); !strings.Contains(errText, "CSRF") {
		t.Errorf("form without CSRF: %q", errText)
	}
	do(chromedp.Navigate(e.http.URL+"/images/"+bad.Digest),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.SetValue(chromedp.CSS(`#approve input[name=reason]`), "accepted for the migration, ticket OPS-42"),
		chromedp.Click(chromedp.CSS(`#approve input[name=force]`)),
		chromedp.Submit(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
		shot("approved"))
	if state := text("state"); state != "approved" {
		t.Errorf("state after approving in the browser: %q", state)
	}
	var detail struct {
		Approval struct{ State, Actor, Reason string }
	}
	e.mustDo("viewer", "GET", "/api/v1/images/"+bad.Digest, nil, 200, &detail)
	if detail.Approval.State != "approved" || detail.Approval.Actor != "approver-token" || !strings.Contains(detail.Approval.Reason, "OPS-42") {
		t.Errorf("the API sees %+v", detail.Approval)
	}

	// An exception added in the browser shows in the API.
	do(chromedp.Navigate(e.http.URL+"/images/"+good.Digest),
		chromedp.WaitVisible(chromedp.ID("exception")),
		chromedp.SetValue(chromedp.CSS(`#exception input[name=advisory]`), "CVE-2023-5363"),
		chromedp.SetValue(chromedp.CSS(`#exception input[name=owner]`), "platform-team"),
		chromedp.SetValue(chromedp.CSS(`#exception input[name=reason]`), "openssl upgrade scheduled"),
		chromedp.SetValue(chromedp.CSS(`#exception input[name=expires]`), time.Now().AddDate(0, 1, 0).Format(time.DateOnly)),
		chromedp.Submit(chromedp.CSS(`#exception`)),
		chromedp.WaitVisible(chromedp.ID("flash")))
	flash := text("flash")
	do(chromedp.Navigate(e.http.URL+"/upcoming"), chromedp.WaitVisible(chromedp.ID("upcoming")), shot("upcoming"),
		chromedp.Navigate(e.http.URL+"/queue"), chromedp.WaitVisible(chromedp.ID("queues")), shot("queue"),
		chromedp.Navigate(e.http.URL+"/admission"), chromedp.WaitVisible(chromedp.CSS("h1")), shot("admission"),
		chromedp.Navigate(e.http.URL+"/review"), chromedp.WaitVisible(chromedp.CSS("h1")), shot("review"))
	if review := text("production"); !strings.Contains(review, "registry.example.com/team/good:1.0") {
		t.Errorf("the quarterly review does not list the image in production:\n%s", review)
	}
	var exs struct {
		Exceptions []struct {
			Advisory, Owner string
			CreatedBy       string `json:"created_by"`
		}
	}
	e.mustDo("viewer", "GET", "/api/v1/exceptions", nil, 200, &exs)
	if len(exs.Exceptions) != 1 || exs.Exceptions[0].Advisory != "CVE-2023-5363" || exs.Exceptions[0].CreatedBy != "approver-token" {
		t.Errorf("exceptions seen by the API: %+v (flash %q)", exs, flash)
	}
	for _, n := range []string{"login", "image-blocked", "fleet", "csrf-refused", "approved", "upcoming", "queue", "admission", "review"} {
		if fi, err := os.Stat(filepath.Join(dir, n+".png")); err != nil || fi.Size() < 5000 {
			t.Errorf("screenshot %s: %v", n, err)
		}
	}
}
