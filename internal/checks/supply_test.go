package checks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/forge/forgetest"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

const imgDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// runCheck runs one check on evidence, the way RunAll does (veto only where the check may veto).
func runCheck(t *testing.T, id string, ev *supplychain.Evidence, set checks.Settings) ([]checks.Finding, error) {
	t.Helper()
	c, ok := checks.Lookup(id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return c.Run(&checks.Subject{Now: now, Settings: &set, Supply: ev})
}

func has(fs []checks.Finding, sev checks.Severity, veto bool, title string) bool {
	for _, f := range fs {
		if f.Severity == sev && f.Veto == veto && strings.Contains(f.Title, title) && len(f.Evidence) > 0 {
			return true
		}
	}
	return false
}

func sigEvidence(sigs ...signature.Signature) *supplychain.Evidence {
	return &supplychain.Evidence{Origin: supplychain.Origin{Kind: "registry", Repository: "registry.example.com/team/app", Digest: imgDigest},
		Attached: &signature.Report{Subjects: []string{imgDigest}, Anchors: []string{"key cosign.pub"}, Signatures: sigs}}
}

func TestSEC031Signatures(t *testing.T) {
	good := signature.Signature{Format: signature.FormatSigTag, Location: "sha256-1111.sig (layer 0)", AttachedTo: imgDigest, SignedDigests: []string{imgDigest},
		Status: signature.Verified, Signer: "key cosign.pub (sha256:abcd)", Key: "cosign.pub"}
	copied := signature.Signature{Format: signature.FormatBundle, Location: "referrer sha256:2222", AttachedTo: imgDigest,
		SignedDigests: []string{"sha256:9999999999999999999999999999999999999999999999999999999999999999"}, Status: signature.WrongDigest, Signer: "key cosign.pub"}
	wrongKey := signature.Signature{Format: signature.FormatSigTag, Location: "sha256-1111.sig (layer 1)", AttachedTo: imgDigest, SignedDigests: []string{imgDigest},
		Status: signature.Invalid, Detail: "key cosign.pub: invalid signature when validating ASN.1 encoded signature"}
	required := checks.DefaultSettings()
	required.RequireSignature = true
	cases := []struct {
		name    string
		ev      *supplychain.Evidence
		set     checks.Settings
		sev     checks.Severity
		veto    bool
		title   string
		failing bool
		skipped bool
	}{
		{"verified", sigEvidence(good), required, checks.Info, false, "signed by key cosign.pub (sha256:abcd) over " + imgDigest, false, false},
		{"copied from another image", sigEvidence(copied), checks.DefaultSettings(), checks.Critical, false, "not this image", true, false},
		{"copied, required", sigEvidence(copied), required, checks.Critical, true, "copied from another image", true, false},
		{"wrong key", sigEvidence(wrongKey), checks.DefaultSettings(), checks.Medium, false, "does not verify", true, false},
		{"wrong key, required", sigEvidence(wrongKey), required, checks.High, true, "does not verify", true, false},
		{"wrong key next to a good one", sigEvidence(wrongKey, good), required, checks.Info, false, "does not verify", false, false},
		{"unsigned", sigEvidence(), checks.DefaultSettings(), checks.Low, false, "not signed", true, false},
		{"unsigned, required", sigEvidence(), required, checks.High, true, "not signed", true, false},
		{"archive, required", &supplychain.Evidence{Origin: supplychain.Origin{Kind: "docker-archive"}, NotLooked: "a docker-archive image has no manifest digest"}, required, checks.High, true, "not checked", true, false},
		{"archive", &supplychain.Evidence{Origin: supplychain.Origin{Kind: "docker-archive"}, NotLooked: "a docker-archive image has no manifest digest"}, checks.DefaultSettings(), 0, false, "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, err := runCheck(t, "SEC-031", c.ev, c.set)
			if c.skipped {
				if _, ok := err.(*checks.SkipError); !ok || !strings.Contains(err.Error(), "docker-archive") {
					t.Fatalf("want a skip naming the source, got %v %+v", err, fs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !has(fs, c.sev, c.veto, c.title) {
				t.Errorf("want %s veto=%v %q in %+v", c.sev, c.veto, c.title, fs)
			}
			failing := false
			for _, f := range fs {
				failing = failing || f.Severity > checks.Info || f.Veto
			}
			if failing != c.failing {
				t.Errorf("failing=%v, want %v: %+v", failing, c.failing, fs)
			}
		})
	}
}

func TestSEC032Attestations(t *testing.T) {
	prov := signature.Attestation{Format: signature.FormatBundle, Location: "referrer sha256:3333", AttachedTo: imgDigest, Kind: signature.KindProvenance,
		Status: signature.Verified, Signer: "key cosign.pub", Subjects: []string{imgDigest},
		Provenance: &signature.Provenance{SLSA: "v0.2", BuilderID: "https://github.com/o/r/actions/runs/1", SourceRepo: "https://github.com/o/r", Commit: "9f86d08"}}
	sbom := signature.Attestation{Format: signature.FormatBuildx, Location: "attestation manifest sha256:4444 (layer 1)", AttachedTo: imgDigest,
		Kind: signature.KindSBOM, Status: signature.Unsigned, SBOM: &signature.SBOM{Format: "SPDX", Packages: 88}, Subjects: []string{imgDigest}}
	ev := func(atts ...signature.Attestation) *supplychain.Evidence {
		e := sigEvidence()
		e.Attached.Attestations = atts
		return e
	}
	fs, err := runCheck(t, "SEC-032", ev(prov, sbom), checks.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if !has(fs, checks.Info, false, "source https://github.com/o/r at 9f86d08") || !has(fs, checks.Info, false, "SPDX with 88 packages") {
		t.Errorf("%+v", fs)
	}
	for _, f := range fs {
		if f.Severity > checks.Info {
			t.Errorf("provenance and SBOM present: %+v", f)
		}
	}
	fs, _ = runCheck(t, "SEC-032", ev(), checks.DefaultSettings())
	if !has(fs, checks.Medium, false, "no SLSA provenance") || !has(fs, checks.Medium, false, "no SBOM") {
		t.Errorf("none: %+v", fs)
	}
	bad := prov
	bad.Status, bad.Detail = signature.Malformed, "not an in-toto statement: _type \"\""
	wrong := prov
	wrong.Status, wrong.Subjects = signature.WrongDigest, []string{"sha256:99"}
	unsignedProv := prov
	unsignedProv.Status, unsignedProv.Format, unsignedProv.Signer = signature.Unsigned, signature.FormatBuildx, ""
	fs, _ = runCheck(t, "SEC-032", ev(bad, wrong, unsignedProv, sbom), checks.DefaultSettings())
	if !has(fs, checks.High, false, "unreadable SLSA provenance attestation: not an in-toto") || !has(fs, checks.Critical, false, "not this image") ||
		!has(fs, checks.Low, false, "provenance is unsigned") {
		t.Errorf("bad ones: %+v", fs)
	}
}

func TestSEC030TrustedSource(t *testing.T) {
	set := func(pats ...string) checks.Settings {
		s := checks.DefaultSettings()
		s.TrustedRegistries = pats
		return s
	}
	o := supplychain.Origin{Kind: "registry", Reference: "nginx:1.27", Repository: "docker.io/library/nginx", Digest: imgDigest,
		Base: "debian:12@sha256:aa", BaseFrom: "label org.opencontainers.image.base.name"}
	ev := &supplychain.Evidence{Origin: o}
	cases := []struct {
		set   checks.Settings
		sev   checks.Severity
		title string
	}{
		{checks.DefaultSettings(), checks.Info, "from registry docker.io/library/nginx@" + imgDigest},
		{checks.DefaultSettings(), checks.Info, "base image debian:12@sha256:aa"},
		{set("official"), checks.Info, "trusted by official"},
		{set("registry.example.com/*"), checks.High, "docker.io/library/nginx is not a trusted source"},
		{set("registry.example.com/*"), checks.Medium, "base image debian:12@sha256:aa is not from a trusted source"},
		{set("registry.example.com", "nginx@"+imgDigest), checks.Info, "trusted by nginx@" + imgDigest},
	}
	for _, c := range cases {
		fs, err := runCheck(t, "SEC-030", ev, c.set)
		if err != nil || !has(fs, c.sev, false, c.title) {
			t.Errorf("%v: want %s %q in %+v (%v)", c.set.TrustedRegistries, c.sev, c.title, fs, err)
		}
	}
	// A pinned exception admits that digest only.
	other := *ev
	other.Origin.Digest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	if fs, _ := runCheck(t, "SEC-030", &other, set("nginx@"+imgDigest)); !has(fs, checks.High, false, "not a trusted source") {
		t.Errorf("pinned exception for another digest: %+v", fs)
	}
	archive := &supplychain.Evidence{Origin: supplychain.Origin{Kind: "docker-archive"}}
	if fs, _ := runCheck(t, "SEC-030", archive, set("official")); !has(fs, checks.High, false, "no registry name") {
		t.Errorf("archive without a name: %+v", fs)
	}
}

// labelled builds an image with labels, judges it through the whole scan
// with the forge at srv, and returns the report.
func labelled(t *testing.T, srv *forgetest.Server, offline bool, labels map[string]string, author string) *report.Report {
	t.Helper()
	spec := base()
	spec.Config.Labels = labels
	spec.Config.User = "65532"
	spec.Created = now.Add(-48 * time.Hour)
	img := imagetest.Image(t, spec)
	if author != "" {
		cf, _ := img.ConfigFile()
		cf.Author = author
		var err error
		if img, err = mutateConfig(img, cf); err != nil {
			t.Fatal(err)
		}
	}
	input := imagetest.WriteLayout(t, t.TempDir(), img, "1.0")
	opened, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	c, err := forge.New(forge.Options{BaseURL: srv.URL, CacheDir: t.TempDir(), Offline: offline, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scanWith(t, opened, engine.Deps{Supply: &supplychain.Options{Forge: c}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestMNT007Upstream(t *testing.T) {
	srv := forgetest.New(t, now)
	src := func(u string) map[string]string { return map[string]string{"org.opencontainers.image.source": u} }
	cases := []struct {
		name   string
		labels map[string]string
		author string
		status checks.Status
		sev    checks.Severity
		veto   bool
		title  string
	}{
		{"fresh", src("https://github.com/shipshape-dev/webapp"), "", checks.Pass, checks.Info, false, "last commit on main"},
		{"stale", src("https://github.com/shipshape-dev/legacy-tool"), "", checks.Fail, checks.High, true, "no commit on master for 802 days"},
		{"archived", map[string]string{"org.label-schema.vcs-url": "git@github.com:shipshape-dev/oldlib.git"}, "", checks.Fail, checks.High, true, "is archived"},
		{"missing", src("https://github.com/shipshape-dev/gone"), "", checks.Fail, checks.High, false, "does not exist on github.com"},
		{"rate limited", src("https://github.com/ratelimited/app"), "", checks.Fail, checks.Medium, false, "rate limit exceeded"},
		{"server error", src("https://github.com/broken/app"), "", checks.Fail, checks.Medium, false, "500"},
		{"garbage", src("https://github.com/garbage/app"), "", checks.Fail, checks.Medium, false, "not the JSON GitHub sends"},
		{"gitlab", src("https://gitlab.com/group/project"), "", checks.Fail, checks.Medium, false, "not a supported forge"},
		{"no source, no maintainer", nil, "", checks.Fail, checks.High, false, "no identifiable source or maintainer"},
		{"maintainer only", nil, "Ops Team <ops@example.com>", checks.Fail, checks.Medium, false, "maintained by Ops Team"},
		{"homepage url is not a source", map[string]string{"org.opencontainers.image.url": "https://example.com/product"}, "", checks.Fail, checks.High, false, "no identifiable source"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := labelled(t, srv, false, c.labels, c.author)
			r := expect(t, rep, "MNT-007", c.status)
			found := false
			for _, f := range r.Findings {
				found = found || f.Severity == c.sev && f.Veto == c.veto && strings.Contains(f.Title, c.title)
			}
			if !found {
				t.Errorf("want %s veto=%v %q in %+v", c.sev, c.veto, c.title, r.Findings)
			}
			vetoed := false
			for _, v := range rep.Verdict.Vetoes {
				vetoed = vetoed || v.CheckID == "MNT-007"
			}
			if vetoed != c.veto {
				t.Errorf("verdict vetoes %+v, want an MNT-007 veto: %v", rep.Verdict.Vetoes, c.veto)
			}
		})
	}
	t.Run("offline", func(t *testing.T) {
		before := len(srv.Requests())
		rep := labelled(t, srv, true, src("https://github.com/shipshape-dev/legacy-tool"), "")
		r := expect(t, rep, "MNT-007", checks.Skipped)
		if !strings.Contains(r.Note, "--offline") || len(srv.Requests()) != before {
			t.Errorf("offline: note %q, %d requests", r.Note, len(srv.Requests())-before)
		}
		if !strings.Contains(strings.Join(rep.Warnings, "\n"), "github.com/shipshape-dev/legacy-tool not checked") {
			t.Errorf("the report must say what was not checked: %v", rep.Warnings)
		}
	})
}

func mutateConfig(img v1.Image, cf *v1.ConfigFile) (v1.Image, error) {
	return mutate.ConfigFile(img, cf)
}
