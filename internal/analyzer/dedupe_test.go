package analyzer

import (
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func TestDedupeOwned(t *testing.T) {
	inv := &inventory.Inventory{
		Owned: map[string]string{"/bin/app": "app", "/usr/lib/python3/dist-packages/x.egg-info/PKG-INFO": "python3-x", "/usr/bin/node": "nodejs"},
		Packages: []inventory.Package{
			{Name: "app", Type: "os", Ecosystem: "deb", Path: "/var/lib/dpkg/status"},
			{Name: "mod", Type: "lang", Ecosystem: "Go", Path: "/usr/bin/app"}, // merged /usr: dpkg says /bin/app
			{Name: "x", Type: "lang", Ecosystem: "PyPI", Path: "/usr/lib/python3/dist-packages/x.egg-info/PKG-INFO"},
			{Name: "y", Type: "lang", Ecosystem: "PyPI", Path: "/usr/local/lib/python3.11/dist-packages/y.dist-info/METADATA"},
			{Name: "nodejs", Type: "binary", Ecosystem: "generic", Path: "/usr/bin/node"},
		},
		Runtimes: []inventory.Runtime{
			{Product: "nodejs", Path: "/usr/bin/node"},
			{Product: "go", Path: "/bin/app"},
			{Product: "python", Evidence: "ENV PYTHON_VERSION"},
			{Product: "nodejs", Path: "/opt/node/bin/node"},
		},
	}
	DedupeOwned(inv)
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if len(names) != 2 || names[0] != "app" || names[1] != "y" {
		t.Errorf("packages left: %v", names)
	}
	if len(inv.Runtimes) != 2 || inv.Runtimes[0].Product != "python" || inv.Runtimes[1].Path != "/opt/node/bin/node" {
		t.Errorf("runtimes left: %+v", inv.Runtimes)
	}
	// Without file lists nothing is dropped.
	inv = &inventory.Inventory{Packages: []inventory.Package{{Name: "a", Type: "lang", Path: "/usr/bin/app"}}}
	if DedupeOwned(inv); len(inv.Packages) != 1 {
		t.Error("dropped without ownership data")
	}
}
