package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// A vendor tarball unpacked under /opt, owned by no package, with an "All
// rights reserved" licence, is in the inventory as an unowned file set whose
// licence is classified; a policy that denies proprietary licences then
// fails the image on it. Files a package owns are not counted again.
func TestUnownedVendorTarball(t *testing.T) {
	status := "Package: vendorpkg\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
	spec := imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(), {
		imagetest.Text("/var/lib/dpkg/status", status),
		imagetest.Text("/var/lib/dpkg/info/vendorpkg.list", "/opt/packaged/bin/tool\n"),
		imagetest.Exec("/opt/packaged/bin/tool", imagetest.ELF(62, "")),
		imagetest.Exec("/opt/acme/bin/acmectl", imagetest.ELF(62, "/lib64/ld-linux-x86-64.so.2")),
		imagetest.Text("/opt/acme/share/acme.conf", "x=1\n"),
		imagetest.Text("/opt/acme/LICENSE.txt", "Acme Server 4.2\nCopyright (c) 2019-2024 Acme Corporation. All rights reserved.\nUse of this software is governed by the Acme End User License Agreement.\n"),
		imagetest.Text("/usr/local/lib/mitlib/COPYING", "Copyright (c) 2021 x\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software\n"),
		imagetest.Text("/usr/local/lib/mitlib/lib.so", "elf"),
	}}, Config: v1.Config{User: "app", Entrypoint: []string{"/opt/acme/bin/acmectl"}}}
	input := imagetest.WriteLayout(t, t.TempDir(), imagetest.Image(t, spec), "registry.example.com/team/acme:4.2")
	e := newEngine(t, engine.Deps{SkipVulns: true})
	fs, err := e.Observe(context.Background(), input, engine.ObserveOptions{NoCache: true, SkipSupply: true})
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string][]string{}
	for _, p := range fs.Inventory.Packages {
		if p.Type == "unowned" {
			sets[p.Path] = p.Licenses
		}
	}
	if !slices.Equal(sets["/opt/acme"], []string{"LicenseRef-proprietary"}) || !slices.Equal(sets["/usr/local/lib/mitlib"], []string{"MIT"}) {
		t.Errorf("unowned sets %v", sets)
	}
	for _, p := range []string{"/opt/packaged"} {
		if _, ok := sets[p]; ok {
			t.Errorf("%s is owned by a package, yet listed as unowned", p)
		}
	}
	pol, err := policy.Parse("p.yaml", []byte("licenses:\n  deny: [AGPL-3.0-only, AGPL-3.0-or-later, LicenseRef-proprietary]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Judge(context.Background(), fs, pol, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	denied := false
	for _, v := range rep.Verdict.Vetoes {
		denied = denied || v.CheckID == "CMP-002"
	}
	if !denied {
		t.Errorf("CMP-002 does not deny the proprietary vendor tarball: %+v", rep.Verdict.Vetoes)
	}
}
