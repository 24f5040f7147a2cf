package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// langReport is the part of the JSON report the language catalogers fill.
type langReport struct {
	Inventory struct {
		Runtimes []struct {
			Product string `json:"product"`
			Version string `json:"version"`
			Path    string `json:"path"`
		} `json:"runtimes"`
		PackageList []struct {
			Name      string   `json:"name"`
			Version   string   `json:"version"`
			Type      string   `json:"type"`
			Ecosystem string   `json:"ecosystem"`
			PURL      string   `json:"purl"`
			Path      string   `json:"path"`
			Layer     int      `json:"layer"`
			Licenses  []string `json:"licenses"`
		} `json:"package_list"`
	} `json:"inventory"`
}

// The langapps fixture: Debian's python3-requests, nodejs, npm (node-*
// packages) and jackson jar are OS packages and must not come back as
// language packages; the npm app, the lock-only app, the official Node.js
// binary, the copied jar and the Go binary must.
func TestLanguagePackagesLangapps(t *testing.T) {
	img := fixture(t, "langapps")
	r := shipshape(t, "check", "--format", "json", "docker-archive:"+img)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep langReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	type key struct{ eco, name, path string }
	got := map[key]string{}
	for _, p := range rep.Inventory.PackageList {
		if p.Type == "lang" || p.Type == "binary" {
			got[key{p.Ecosystem, p.Name, p.Path}] = p.Version
			// Nothing Debian installed is reported again.
			for _, owned := range []string{"/usr/lib/python3/dist-packages/", "/usr/share/nodejs/", "/usr/lib/nodejs/", "/usr/share/java/", "/usr/bin/"} {
				if strings.HasPrefix(p.Path, owned) {
					t.Errorf("package of an OS package reported: %+v", p)
				}
			}
		}
	}
	for k, v := range map[key]string{
		{"npm", "express", "/srv/app/node_modules/express/package.json"}:                       "4.17.1",
		{"npm", "lodash", "/srv/app/node_modules/lodash/package.json"}:                         "4.17.20",
		{"npm", "minimist", "/srv/app/node_modules/minimist/package.json"}:                     "1.2.5",
		{"npm", "ms", "/srv/app/node_modules/send/node_modules/ms/package.json"}:               "2.1.1",
		{"npm", "express", "/srv/lockonly/package-lock.json"}:                                  "4.17.1",
		{"generic", "nodejs", "/opt/node-v20.11.1/bin/node"}:                                   "20.11.1",
		{"Maven", "com.fasterxml.jackson.core:jackson-core", "/srv/java/lib/jackson-core.jar"}: "",
		{"Go", "github.com/shipshape-dev/shipshape", "/usr/local/bin/webapp"}:                  "",
	} {
		gv, ok := got[k]
		if !ok || (v != "" && gv != v) {
			t.Errorf("%v: got %q (present %v), want %q", k, gv, ok, v)
		}
	}
	var node bool
	for _, rt := range rep.Inventory.Runtimes {
		if rt.Product == "nodejs" {
			if rt.Path != "/opt/node-v20.11.1/bin/node" || rt.Version != "20.11.1" {
				t.Errorf("nodejs runtime of Debian's nodejs package reported: %+v", rt)
			}
			node = true
		}
	}
	if !node {
		t.Errorf("the official Node.js binary gives no runtime: %+v", rep.Inventory.Runtimes)
	}
}
