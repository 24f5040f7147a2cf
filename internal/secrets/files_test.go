package secrets

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestClassifyPath(t *testing.T) {
	for p, want := range map[string]string{
		"/root/.ssh/id_rsa":                         "ssh-private-key",
		"/home/app/.ssh/id_ed25519":                 "ssh-private-key",
		"/root/.ssh/id_rsa.pub":                     "",
		"/app/.env":                                 "env-file",
		"/app/.env.production":                      "env-file",
		"/app/.env.example":                         "",
		"/root/.aws/credentials":                    "aws-credentials",
		"/root/.docker/config.json":                 "docker-config",
		"/home/u/.npmrc":                            "npmrc",
		"/root/.pypirc":                             "pypirc",
		"/root/.netrc":                              "netrc",
		"/root/.git-credentials":                    "git-credentials",
		"/root/.bash_history":                       "shell-history",
		"/srv/keystore.jks":                         "keystore",
		"/srv/cert.P12":                             "keystore",
		"/srv/site.pfx":                             "keystore",
		"/etc/ssh/ssh_host_ed25519_key":             "ssh-host-key",
		"/etc/ssh/ssh_host_ed25519_key.pub":         "",
		"/root/.ssh/authorized_keys":                "authorized-keys",
		"/tmp/.x/xmrig":                             "miner",
		"/root/.kube/config":                        "kubeconfig",
		"/etc/passwd":                               "",
		"/usr/lib/jvm/java-17/lib/security/cacerts": "",
	} {
		c, ok := ClassifyPath(p)
		if ok != (want != "") || c.Kind != want {
			t.Errorf("%s: %q %v, want %q", p, c.Kind, ok, want)
		}
	}
	if d, ok := GitDir("/src/.git/refs/heads/main"); !ok || d != "/src/.git" {
		t.Errorf("GitDir: %q %v", d, ok)
	}
	if _, ok := GitDir("/src/.gitignore"); ok {
		t.Error(".gitignore is no .git directory")
	}
}

func TestIsScript(t *testing.T) {
	for _, c := range []struct {
		path string
		head string
		exec bool
		want bool
	}{
		{"/usr/local/bin/run", "#!/bin/sh\n", false, true},
		{"/opt/app/start.sh", "echo", false, true},
		{"/opt/app/tool", "echo", true, true},
		{"/etc/cron.d/job", "* * * * * root x", false, true},
		{"/root/.bashrc", "alias", false, true},
		{"/etc/profile.d/x.sh", "", false, true},
		{"/app/README.md", "bash -i", false, false},
		{"/app/main.py", "import os", false, false},
	} {
		if got := IsScript(c.path, []byte(c.head), c.exec); got != c.want {
			t.Errorf("IsScript(%s) = %v", c.path, got)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"abc":                  "***",
		"AKIAABCDEFGHIJKLMNOP": "AKIA************(20 chars)",
		"secret1":              "secr***(7 chars)",
		"\x00\x01ab\xffxyz":    "??ab****(8 chars)",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if got := MaskIn("password = hunter2hunter2 # x", "hunter2hunter2", 100); got != "password = hunt**********(14 chars) # x" {
		t.Errorf("MaskIn: %q", got)
	}
}

func TestPoolBoundsMemory(t *testing.T) {
	p := NewPool(3, 100)
	var inflight, peak, ran atomic.Int64
	var mu sync.Mutex
	for i := 0; i < 200; i++ {
		size := int64(1 + i%40)
		p.Submit(size, func() {
			n := inflight.Add(size)
			mu.Lock()
			if n > peak.Load() {
				peak.Store(n)
			}
			mu.Unlock()
			inflight.Add(-size)
			ran.Add(1)
		})
	}
	// A job larger than the limit runs alone.
	p.Submit(500, func() { ran.Add(1) })
	p.Wait()
	if ran.Load() != 201 {
		t.Fatalf("%d jobs ran, want 201", ran.Load())
	}
	if peak.Load() > 100 {
		t.Errorf("%d bytes in flight, over the limit of 100", peak.Load())
	}
}
