package analyzer

import (
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Named is one analyzer of a scan, with its name (for --skip and warnings).
type Named struct {
	Name string
	Analyzer
}

// Builtin returns fresh analyzers for one scan configured by o, in name
// order. The catalogue is explicit: an analyzer is added here, in one line.
func Builtin(o Options) []Named {
	sec := o.Secrets
	if sec == nil {
		sec = defaultSecretScanner()
	}
	return []Named{
		{"accounts", &accounts{}},
		{"apk", &apk{}},
		{"binary", &binaries{seen: map[string]*inventory.Binary{}}},
		{"composer", &composer{}},
		{"dotnet", &dotnet{}},
		{"dpkg", &dpkg{}},
		{"dpkg-copyright", &dpkgCopyright{}},
		{"dpkg-files", &dpkgFiles{}},
		{"gem", &gem{}},
		{"java", &java{}},
		{"npm", &npm{}},
		{"os-release", &osRelease{}},
		{"python", &python{}},
		{"rpm", &rpm{}},
		{"runtimes", &runtimes{hits: map[string]runtimeHit{}}},
		{"secrets", newSecrets(sec)},
		{"unowned", &unowned{}},
	}
}

// Names lists the built-in analyzers.
func Names() []string {
	var out []string
	for _, n := range Builtin(Options{}) {
		out = append(out, n.Name)
	}
	return out
}
