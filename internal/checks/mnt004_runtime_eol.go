package checks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// runtimeEnv maps the version variables that official images set to endoflife.date products.
var runtimeEnv = map[string]string{
	"GOLANG_VERSION": "go", "NODE_VERSION": "nodejs", "PYTHON_VERSION": "python", "RUBY_VERSION": "ruby",
	"PHP_VERSION": "php", "NGINX_VERSION": "nginx", "PG_VERSION": "postgresql", "PG_MAJOR": "postgresql",
	"REDIS_VERSION": "redis", "MYSQL_VERSION": "mysql", "MARIADB_VERSION": "mariadb", "MONGO_VERSION": "mongodb",
	"HTTPD_VERSION": "apache-http-server", "TOMCAT_VERSION": "tomcat", "HAPROXY_VERSION": "haproxy",
	"DOTNET_VERSION": "dotnet", "RABBITMQ_VERSION": "rabbitmq", "JAVA_VERSION": "eclipse-temurin",
}

// runtimes returns the runtimes from the inventory plus those the image's ENV declares.
func (s *Subject) runtimes() []inventory.Runtime {
	out := append([]inventory.Runtime{}, s.Inv.Runtimes...)
	if s.Config != nil {
		for _, e := range s.Config.Config.Env {
			k, v, _ := strings.Cut(e, "=")
			if p, ok := runtimeEnv[k]; ok && v != "" {
				v = strings.TrimPrefix(strings.TrimPrefix(v, "jdk-"), "v")
				out = append(out, inventory.Runtime{Product: p, Version: v, Evidence: "ENV " + k, Layer: -1})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Product != out[j].Product {
			return out[i].Product < out[j].Product
		}
		return out[i].Evidence < out[j].Evidence
	})
	return out
}

// mnt004 is the check MNT-004.
func mnt004() Check {
	return define(Meta{
		ID:        "MNT-004",
		Dimension: Maintainability,
		Title:     "Runtimes supported",
		Severity:  High,
		Description: "Language runtimes and servers found in the image (the Go toolchain of Go binaries from their build info, versions declared by official images' ENV such as NODE_VERSION or PYTHON_VERSION, and runtimes installed as Debian, Alpine or RPM packages: nodejs, python3.X, openjdk-N, golang-1.N, ruby3.X, php8.X, postgresql-N, nginx, apache2/httpd, redis, mariadb, mysql, tomcatN, haproxy) must not be past their end of life or within 90 days of it. " +
			"For an OS package both dates count: the upstream end of life, and whether the image's distribution release still patches it (Debian 12 ships security updates for its nodejs 18 after Node.js 18's upstream end of life): past upstream end of life but still patched by the distribution is medium, patched by nobody is high.",
		Remediation: "Upgrade the runtime to a supported release line and rebuild.",
	}, func(s *Subject) ([]Finding, error) {
		rts := s.runtimes()
		pkgs := s.packageRuntimes()
		if len(rts) == 0 && len(pkgs) == 0 {
			return nil, Skip("no runtime with a known version found")
		}
		var out []Finding
		for _, rt := range pkgs {
			out = append(out, packageRuntimeFindings(s, rt)...)
		}
		for _, rt := range rts {
			p, r, ok := s.EOL.Lookup(rt.Product, rt.Version)
			if !ok {
				continue
			}
			var ev Evidence
			if rt.Path != "" {
				ev = s.InLayer(rt.Path, rt.Layer)
				ev.Value = rt.Version
			} else {
				ev = Evidence{Field: rt.Evidence, Value: rt.Version}
			}
			out = append(out, eolFindings(s, fmt.Sprintf("%s %s (%s)", p.Title, rt.Version, rt.Evidence), r, []Evidence{ev}, High)...)
		}
		return out, nil
	})
}
