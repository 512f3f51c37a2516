package bundle

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func requireBusybox(t *testing.T) {
	t.Helper()
	if err := CheckBusybox(); err != nil {
		t.Skipf("skipping: %v", err)
	}
}

func readConfig(t *testing.T, dir string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("parse config.json: %v", err)
	}
	return &s
}

func checkRootfs(t *testing.T, rootfs string) {
	t.Helper()
	bb := filepath.Join(rootfs, "bin", "busybox")
	fi, err := os.Lstat(bb)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/busybox mode = %v", fi.Mode())
	}
	host, err := os.Stat(BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(fi, host) {
		t.Error("bin/busybox is a hard link to the host busybox, want a copy")
	}
	if fi.Size() != host.Size() {
		t.Errorf("bin/busybox size = %d, want %d", fi.Size(), host.Size())
	}

	for _, applet := range []string{"sh", "echo", "cat", "id", "ls"} {
		p := filepath.Join(rootfs, "bin", applet)
		target, err := os.Readlink(p)
		if err != nil {
			t.Errorf("bin/%s: %v", applet, err)
			continue
		}
		if target != "busybox" {
			t.Errorf("bin/%s -> %q, want busybox", applet, target)
		}
		resolved, err := os.Stat(p)
		if err != nil || !os.SameFile(resolved, fi) {
			t.Errorf("bin/%s does not resolve to bin/busybox: %v", applet, err)
		}
	}

	dirs := map[string]fs.FileMode{
		"sbin":     0o755,
		"usr/bin":  0o755,
		"proc":     0o755,
		"sys":      0o755,
		"dev":      0o755,
		"tmp":      0o777 | fs.ModeSticky,
		"root":     0o700,
		"home/app": 0o755,
	}
	for d, mode := range dirs {
		fi, err := os.Lstat(filepath.Join(rootfs, d))
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if !fi.IsDir() || fi.Mode()&(fs.ModePerm|fs.ModeSticky) != mode {
			t.Errorf("%s mode = %v, want dir %v", d, fi.Mode(), mode)
		}
	}
	for _, d := range []string{"sbin", "usr/bin", "proc", "sys", "dev", "tmp", "root", "home/app"} {
		entries, err := os.ReadDir(filepath.Join(rootfs, d))
		if err == nil && len(entries) != 0 {
			t.Errorf("%s is not empty", d)
		}
	}

	passwd, err := os.ReadFile(filepath.Join(rootfs, "etc", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"root:x:0:0:root:/root:/bin/sh",
		"app:x:1000:1000:app:/home/app:/bin/sh",
		"nobody:x:65534:65534:",
	} {
		if !strings.Contains(string(passwd), line) {
			t.Errorf("etc/passwd lacks %q:\n%s", line, passwd)
		}
	}
	group, err := os.ReadFile(filepath.Join(rootfs, "etc", "group"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"root:x:0:\n", "app:x:1000:\n", "extra:x:2000:app\n"} {
		if !strings.Contains(string(group), line) {
			t.Errorf("etc/group lacks %q:\n%s", line, group)
		}
	}
	if h, err := os.ReadFile(filepath.Join(rootfs, "etc", "hostname")); err != nil || strings.TrimSpace(string(h)) != "oci-rt" {
		t.Errorf("etc/hostname = %q, %v", h, err)
	}
}

func TestBuild(t *testing.T) {
	requireBusybox(t)
	dir := filepath.Join(t.TempDir(), "bundle")
	args := []string{"sh", "-c", "echo hi"}
	s, err := Build(dir, args)
	if err != nil {
		t.Fatal(err)
	}
	checkRootfs(t, filepath.Join(dir, "rootfs"))

	cfg := readConfig(t, dir)
	if !slices.Equal(cfg.Process.Args, args) || !slices.Equal(s.Process.Args, args) {
		t.Errorf("args = %q (returned %q), want %q", cfg.Process.Args, s.Process.Args, args)
	}
	if cfg.Process.Terminal {
		t.Error("process.terminal = true, want false")
	}
	if cfg.Root == nil || cfg.Root.Path != "rootfs" {
		t.Errorf("root = %+v", cfg.Root)
	}
	if cfg.Version != specs.Version {
		t.Errorf("ociVersion = %q", cfg.Version)
	}

	if _, err := Build(dir, nil); err == nil {
		t.Error("second Build into the same directory succeeded")
	}
}

func TestBuildDefaultArgs(t *testing.T) {
	requireBusybox(t)
	dir := t.TempDir()
	if _, err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	if cfg := readConfig(t, dir); !slices.Equal(cfg.Process.Args, []string{"sh"}) {
		t.Errorf("args = %q, want [sh]", cfg.Process.Args)
	}
}

func TestWriteConfig(t *testing.T) {
	requireBusybox(t)
	dir := t.TempDir()
	s, err := Build(dir, []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	s.Hostname = "changed"
	s.Process.Env = append(s.Process.Env, "FOO=bar")
	if err := WriteConfig(dir, s); err != nil {
		t.Fatal(err)
	}
	cfg := readConfig(t, dir)
	if cfg.Hostname != "changed" || !slices.Contains(cfg.Process.Env, "FOO=bar") {
		t.Errorf("config not rewritten: hostname %q env %q", cfg.Hostname, cfg.Process.Env)
	}
}

// TestParallelAndIsolation builds many bundles at once against an empty cache
// and checks that bundles do not share files with the cache or each other.
func TestParallelAndIsolation(t *testing.T) {
	requireBusybox(t)
	t.Setenv("TMPDIR", t.TempDir())
	base := t.TempDir()

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Build(filepath.Join(base, fmt.Sprint(i)), []string{"echo", fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("bundle %d: %v", i, err)
		}
	}
	for i := range n {
		dir := filepath.Join(base, fmt.Sprint(i))
		checkRootfs(t, filepath.Join(dir, "rootfs"))
		if cfg := readConfig(t, dir); !slices.Equal(cfg.Process.Args, []string{"echo", fmt.Sprint(i)}) {
			t.Errorf("bundle %d args = %q", i, cfg.Process.Args)
		}
	}

	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cache, os.Getenv("TMPDIR")) || !cacheValid(cache) {
		t.Fatalf("cache %s not created", cache)
	}
	leftovers, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), cachePrefix+".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary cache directories left behind: %q", leftovers)
	}

	// Modifying one bundle must not affect the cache or other bundles.
	p0 := filepath.Join(base, "0", "rootfs", "etc", "passwd")
	if err := os.WriteFile(p0, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		filepath.Join(cache, "etc", "passwd"),
		filepath.Join(base, "1", "rootfs", "etc", "passwd"),
	} {
		if data, _ := os.ReadFile(p); string(data) != passwdContent {
			t.Errorf("%s changed with bundle 0: %q", p, data)
		}
	}

	// A damaged cache is rebuilt.
	if err := os.Remove(filepath.Join(cache, "bin", "busybox")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "rebuilt")
	if _, err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	checkRootfs(t, filepath.Join(dir, "rootfs"))
}
