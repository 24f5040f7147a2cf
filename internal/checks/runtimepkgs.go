package checks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// runtimePackage maps OS package names (Debian, Alpine, RPM) to the
// endoflife.date product of the runtime or server they install. The version
// is the package's upstream version, unless cycle is set: then the release
// cycle is in the package name (python3.11, golang-1.19, postgresql-15) and
// the package version must belong to it.
type runtimePackage struct {
	re      *regexp.Regexp
	product string
	// name is how findings name the runtime when the product's title would
	// mislead (OpenJDK judged by the community builds' support dates).
	name string
	// cycle is the submatch of re that holds the release cycle, 0 for none.
	cycle int
}

var runtimePackages = []runtimePackage{
	{re: regexp.MustCompile(`^nodejs(-current|-lts)?$`), product: "nodejs"},
	{re: regexp.MustCompile(`^python(3\.\d+|2\.7)(-minimal)?$`), product: "python", cycle: 1},
	{re: regexp.MustCompile(`^python3$`), product: "python"},
	// Debian openjdk-17-jre-headless, Alpine openjdk17-jre, RPM java-17-openjdk-headless.
	{re: regexp.MustCompile(`^openjdk-?(\d+)(-jre|-jdk)?(-headless)?$`), product: "eclipse-temurin", name: "OpenJDK", cycle: 1},
	{re: regexp.MustCompile(`^java-(\d+)-openjdk(-headless|-devel)?$`), product: "red-hat-build-of-openjdk", name: "OpenJDK", cycle: 1},
	{re: regexp.MustCompile(`^java-1\.(8)\.0-openjdk(-headless|-devel)?$`), product: "red-hat-build-of-openjdk", name: "OpenJDK", cycle: 1},
	{re: regexp.MustCompile(`^golang-(1\.\d+)-go$`), product: "go", cycle: 1},
	{re: regexp.MustCompile(`^(go|golang|golang-bin)$`), product: "go"},
	{re: regexp.MustCompile(`^ruby(\d\.\d+)$`), product: "ruby", cycle: 1},
	{re: regexp.MustCompile(`^(ruby|ruby-libs)$`), product: "ruby"},
	{re: regexp.MustCompile(`^php(\d\.\d+)-(cli|fpm|common)$`), product: "php", cycle: 1},
	{re: regexp.MustCompile(`^php(\d)(\d+)$`), product: "php"}, // Alpine php82
	{re: regexp.MustCompile(`^php(-cli|-fpm|-common)?$`), product: "php"},
	{re: regexp.MustCompile(`^postgresql-?(\d+)$`), product: "postgresql", cycle: 1},
	{re: regexp.MustCompile(`^postgresql(\d+)?-server$`), product: "postgresql"},
	{re: regexp.MustCompile(`^nginx(-core|-light|-full|-extras)?$`), product: "nginx"},
	{re: regexp.MustCompile(`^(apache2|httpd)$`), product: "apache-http-server"},
	{re: regexp.MustCompile(`^(redis|redis-server)$`), product: "redis"},
	{re: regexp.MustCompile(`^mariadb-server(-core)?(-\d+\.\d+)?$`), product: "mariadb"},
	{re: regexp.MustCompile(`^(mysql-server|mysql-community-server)$`), product: "mysql"},
	{re: regexp.MustCompile(`^tomcat(\d+)$`), product: "tomcat", cycle: 1},
	{re: regexp.MustCompile(`^haproxy$`), product: "haproxy"},
}

// upstreamVersion is the upstream part of an OS package version: no epoch,
// no Debian revision or Alpine/RPM release, no +dfsg or ~ suffix
// ("1:18.20.4+dfsg-1~deb12u1" -> "18.20.4", "20.15.1-r0" -> "20.15.1").
func upstreamVersion(v string, eco string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if eco == string(inventory.Deb) {
		if i := strings.LastIndex(v, "-"); i > 0 {
			v = v[:i]
		}
	} else if i := strings.Index(v, "-"); i > 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "+~"); i > 0 {
		v = v[:i]
	}
	return v
}

// pkgRuntime is a runtime installed by OS packages: one per product and
// version, with every package that installs it.
type pkgRuntime struct {
	Product, Name, Version string
	Packages               []string
	Eco                    string
	Path                   string
	Layer                  int
}

// packageRuntimes returns the runtimes the OS packages install.
func (s *Subject) packageRuntimes() []pkgRuntime {
	var out []pkgRuntime
	index := map[string]int{}
	for _, p := range s.Inv.Packages {
		switch inventory.Ecosystem(p.Ecosystem) {
		case inventory.Deb, inventory.Apk, inventory.RPM:
		default:
			continue
		}
		for _, rp := range runtimePackages {
			m := rp.re.FindStringSubmatch(p.Name)
			if m == nil {
				continue
			}
			v := upstreamVersion(p.Version, p.Ecosystem)
			if rp.cycle > 0 {
				c := m[rp.cycle]
				// The package version when it is of the named cycle (3.11.2 of
				// python3.11), else the cycle itself (openjdk-17's 17.0.12+7
				// is 17.0.12; a metapackage's own version says nothing).
				if v != c && !strings.HasPrefix(v, c+".") {
					v = c
				}
			}
			if v == "" {
				break
			}
			name := rp.name
			key := rp.product + " " + v
			if i, ok := index[key]; ok {
				if !containsString(out[i].Packages, p.Name) {
					out[i].Packages = append(out[i].Packages, p.Name)
				}
				break
			}
			index[key] = len(out)
			out = append(out, pkgRuntime{Product: rp.product, Name: name, Version: v, Packages: []string{p.Name}, Eco: p.Ecosystem, Path: p.Path, Layer: p.Layer})
			break
		}
	}
	// A metapackage version such as Debian's python3 "3.11.2" and the
	// python3.11 package's "3.11.2" are one runtime; a bare cycle ("3.11")
	// is dropped when a fuller version of the same cycle is known.
	kept := out[:0]
	for _, r := range out {
		dup := false
		for _, o := range out {
			if o.Product == r.Product && o.Version != r.Version && strings.HasPrefix(o.Version, r.Version+".") {
				dup = true
			}
		}
		if !dup {
			kept = append(kept, r)
		}
	}
	return kept
}

// distroSupport is whether the image's OS release still ships security
// updates: its name ("Debian 12 (bookworm)") and release, if known.
func (s *Subject) distroSupport() (string, *eol.Release, bool) {
	o := s.Inv.OS
	if o == nil || s.EOL == nil {
		return "", nil, false
	}
	slug := osProducts[o.ID]
	version := o.VersionID
	if slug == "alpine-linux" {
		if parts := strings.SplitN(version, ".", 3); len(parts) >= 2 {
			version = parts[0] + "." + parts[1]
		}
	}
	if slug == "" || version == "" {
		return "", nil, false
	}
	p, r, ok := s.EOL.Lookup(slug, version)
	if !ok {
		return "", nil, false
	}
	name := p.Title + " " + r.Cycle
	if o.VersionCodename != "" {
		name += " (" + o.VersionCodename + ")"
	}
	return name, r, true
}

// packageRuntimeFindings judges a runtime installed as OS packages: its
// upstream end of life, and whether the distribution still patches it.
// Past its upstream end of life, a runtime that the distribution's
// supported release still patches is medium; one nobody patches any more is high.
func packageRuntimeFindings(s *Subject, rt pkgRuntime) []Finding {
	p, r, ok := s.EOL.Lookup(rt.Product, rt.Version)
	if !ok {
		return nil
	}
	warn := s.settings().EOLWarning
	st := r.StatusAt(s.Now, warn)
	if !st.Ended && !st.Soon {
		return nil
	}
	title := rt.Name
	if title == "" {
		title = p.Title
	}
	ecoName := map[string]string{"deb": "Debian", "apk": "Alpine", "rpm": "RPM"}[rt.Eco]
	plural := ""
	if len(rt.Packages) > 1 {
		plural = "s"
	}
	name := fmt.Sprintf("%s %s (%s package%s %s)", title, rt.Version, ecoName, plural, strings.Join(rt.Packages, ", "))
	ev := s.InLayer(rt.Path, rt.Layer)
	ev.Field, ev.Value = "package", strings.Join(rt.Packages, ", ")+" "+rt.Version
	evs := []Evidence{ev, {Field: "upstream end of life", Value: fmt.Sprintf("%s (%s %s)", r.EOL, rt.Product, r.Cycle)}}

	upstream := fmt.Sprintf("reached its upstream end of life on %s", r.EOL)
	if !st.Ended {
		upstream = fmt.Sprintf("reaches its upstream end of life on %s, within %d days", r.EOL, int(warn.Hours()/24))
	}
	if st.Ended && st.Extended {
		upstream += fmt.Sprintf(" (extended support until %s)", r.ExtendedSupport)
	}
	sev := High
	var distro string
	dname, dr, known := s.distroSupport()
	switch {
	case !known:
		distro = "whether the distribution still patches it is unknown"
		evs = append(evs, Evidence{Field: "distribution support", Value: "unknown (no OS release or no end-of-life data for it)"})
	default:
		ds := dr.StatusAt(s.Now, 0)
		support := "security support until " + dr.EOL.String()
		if dr.ExtendedSupport.Known {
			support += ", LTS until " + dr.ExtendedSupport.String()
		}
		evs = append(evs, Evidence{Field: "distribution support", Value: dname + ": " + support})
		switch {
		case !ds.Ended:
			sev = Medium
			distro = fmt.Sprintf("%s still patches it while it is supported (security support until %s)", dname, dr.EOL)
		case ds.Extended:
			sev = Medium
			distro = fmt.Sprintf("only %s's LTS still patches it, until %s", dname, dr.ExtendedSupport)
		default:
			distro = fmt.Sprintf("%s itself reached end of life on %s: nobody patches it", dname, dr.EOL)
		}
	}
	if !st.Ended && sev == Medium {
		sev = Low
	}
	return []Finding{{
		Severity: sev,
		Title:    fmt.Sprintf("%s %s; %s", name, upstream, distro),
		Evidence: evs,
		Remediation: fmt.Sprintf("Move to a supported %s release line: install it from a newer distribution release or the upstream packages, or use an official image of a supported version; "+
			"until then the distribution's security updates (`apt-get upgrade`/`apk upgrade`/`dnf upgrade` on rebuild) are the only fixes it gets.", title),
	}}
}
