package hostimage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDepends(t *testing.T) {
	tests := []struct {
		in   string
		want [][]string
	}{
		{"libc6 (>= 2.34)", [][]string{{"libc6"}}},
		{"a | b (<< 2), c:any, d [amd64]", [][]string{{"a", "b"}, {"c"}, {"d"}}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := parseDepends(tt.in); !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("parseDepends(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// The image holds the Essential packages and Packages with what they depend
// on — first installed alternative, or a provider of a virtual package —
// and nothing that is not installed.
func TestClosure(t *testing.T) {
	status := `Package: base-files
Status: install ok installed
Essential: yes
Version: 12
Depends: awk

Package: mawk
Status: install ok installed
Version: 1.3
Provides: awk

Package: curl
Status: install ok installed
Version: 7.88
Depends: libcurl4 (= 7.88) | libcurl-gnutls, missing-lib | libz

Package: libcurl4
Status: install ok installed
Version: 7.88

Package: libz
Status: install ok installed
Version: 1

Package: gone
Status: deinstall ok config-files
Essential: yes
Version: 1

Package: unrelated
Status: install ok installed
Version: 1
`
	path := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(path, []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	installed, err := readStatus(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range closure(installed) {
		got = append(got, p.name)
	}
	want := []string{"base-files", "curl", "libcurl4", "libz", "mawk"}
	if !slices.Equal(got, want) {
		t.Errorf("closure = %v, want %v", got, want)
	}
	if _, err := readStatus(filepath.Join(t.TempDir(), "none")); err != ErrNoDpkg {
		t.Errorf("a host without dpkg: %v, want ErrNoDpkg", err)
	}
}

// The image built from this host's packages is an operating system: a
// shell, Python and curl run in it, it holds no user of the host and no
// password, and a second call returns the same image without building.
func TestRootFromHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (chroot, ldconfig -r); run it as root")
	}
	if _, err := os.Stat(filepath.Join(DpkgDir, "status")); err != nil {
		t.Fatalf("this test needs a Debian host: %v", err)
	}
	cache := t.TempDir()
	var progress strings.Builder
	root, err := Root(context.Background(), cache, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "built-in AMI ready") {
		t.Errorf("no progress shown: %q", progress.String())
	}
	out, err := exec.Command("chroot", root, "/bin/sh", "-c",
		`python3 -c 'print(6*7)' && curl --version >/dev/null && echo curl && find /home /root -mindepth 1 | wc -l && cut -d: -f2 /etc/shadow | sort -u`).CombinedOutput()
	if err != nil {
		t.Fatalf("in the image: %v\n%s", err, out)
	}
	if got := string(out); got != "42\ncurl\n0\n*\n" {
		t.Errorf("in the image:\n%s\nwant 42, curl, nothing in /home and /root, only locked passwords", got)
	}
	// No user of the host (IDs from 1000 on, but nobody).
	b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || len(f[2]) >= 4 && f[2] != "65534" {
			t.Errorf("a host user in the image: %s", line)
		}
	}
	progress.Reset()
	again, err := Root(context.Background(), cache, &progress)
	if err != nil || again != root || progress.Len() != 0 {
		t.Errorf("second call: %s %v, progress %q; want %s without building", again, err, progress.String(), root)
	}
}
