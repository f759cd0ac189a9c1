package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `make deb` (nfpm) packages the binary, the units and the example config
// as /etc/roster/roster.yaml (a conffile); dpkg -x unpacks it into a
// scratch root with the expected files. The test packages the binary it
// built (PREBUILT=1) rather than a second, static build.
func TestDebPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nfpm")
	}
	makeBin := need(t, "make")
	dpkgDeb := need(t, "dpkg-deb")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	cmd := exec.Command(makeBin, "-C", root, "deb", "PREBUILT=1", "BIN="+binary, "DIST="+dist, "VERSION=9.9.9", "COMMIT=test")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		// nfpm comes from the module proxy; without it the package cannot be built.
		if os.Getenv("CI") == "" && strings.Contains(out.String(), "proxy.golang.org") {
			t.Skipf("nfpm cannot be fetched here:\n%s", out.String())
		}
		t.Fatalf("make deb: %v\n%s", err, out.String())
	}
	debs, _ := filepath.Glob(filepath.Join(dist, "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("debs in %s: %v\n%s", dist, debs, out.String())
	}
	deb := debs[0]
	field := func(name string) string {
		b, err := exec.Command(dpkgDeb, "-f", deb, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v", name, err)
		}
		return strings.TrimSpace(string(b))
	}
	if v := field("Version"); v != "9.9.9" {
		t.Errorf("Version %q", v)
	}
	if p := field("Package"); p != "roster" {
		t.Errorf("Package %q", p)
	}
	scratch := t.TempDir()
	if b, err := exec.Command(dpkgDeb, "-x", deb, scratch).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, b)
	}
	for _, f := range []struct {
		path, same string
		mode       os.FileMode
	}{
		{"usr/bin/roster", binary, 0o755},
		{"usr/lib/systemd/system/roster.service", "../../systemd/roster.service", 0o644},
		{"usr/lib/sysusers.d/roster.conf", "../../systemd/roster.sysusers", 0o644},
		{"usr/lib/tmpfiles.d/roster.conf", "../../systemd/roster.tmpfiles", 0o644},
		{"etc/roster/roster.yaml", "../../configs/roster.example.yaml", 0o640},
		{"usr/share/doc/roster/README.md", "../../README.md", 0o644},
	} {
		fi, err := os.Stat(filepath.Join(scratch, f.path))
		if err != nil {
			t.Errorf("%s is not in the package: %v", f.path, err)
			continue
		}
		if fi.Mode().Perm() != f.mode {
			t.Errorf("%s has mode %v, want %v", f.path, fi.Mode().Perm(), f.mode)
		}
		got, _ := os.ReadFile(filepath.Join(scratch, f.path))
		want, _ := os.ReadFile(f.same)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", f.path, f.same)
		}
	}
	// The unpacked binary runs.
	if b, err := exec.Command(filepath.Join(scratch, "usr/bin/roster"), "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(b), "roster ") {
		t.Errorf("unpacked roster version: %v %s", err, b)
	}
	// The config is a conffile (kept on upgrade when edited) and the
	// maintainer scripts are there.
	ctrl := t.TempDir()
	if b, err := exec.Command(dpkgDeb, "-e", deb, ctrl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, b)
	}
	if c, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); !strings.Contains(string(c), "/etc/roster/roster.yaml") {
		t.Errorf("conffiles: %q", c)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if _, err := os.Stat(filepath.Join(ctrl, s)); err != nil {
			t.Errorf("no %s script: %v", s, err)
		}
	}
}

// make build stamps the version and commit and links statically. (Running
// it is a cold cgo build of several minutes, so this checks the command
// make would run; the README's figures give a real run.)
func TestMakeBuildCommand(t *testing.T) {
	makeBin := need(t, "make")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(makeBin, "-C", root, "-n", "build", "VERSION=1.2.3", "COMMIT=abc123").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	for _, want := range []string{"CGO_ENABLED=1 go build", "-X main.version=1.2.3", "-X main.commit=abc123", `-extldflags "-static"`, "netgo", "osusergo", "./cmd/roster"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make build lacks %s:\n%s", want, out)
		}
	}
}
