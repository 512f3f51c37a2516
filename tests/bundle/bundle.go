// Package bundle builds small OCI bundles for tests: a root filesystem made of
// Debian's statically linked busybox (package busybox-static) plus a
// config.json derived from specdefault.Example.
//
// The busybox root filesystem is assembled once per user into a cache
// directory under os.TempDir() and then copied into every bundle, so tests
// that build many bundles stay fast. Building the cache is safe for
// concurrent use, from goroutines and from separate processes: it is built in
// a temporary directory and renamed into place.
package bundle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/specdefault"
)

// BusyboxPath is where the statically linked busybox is expected on the host.
const BusyboxPath = "/bin/busybox"

// ErrNoBusybox is returned (wrapped) when BusyboxPath is missing or is not a
// statically linked executable.
var ErrNoBusybox = errors.New("static busybox not available: run `apt-get install -y busybox-static`")

// cacheLayout is bumped whenever the layout of the generated root filesystem
// changes, so stale caches are not reused.
const cacheLayout = "3"

// cachePrefix is the name prefix of the cache directory in os.TempDir().
const cachePrefix = "oci-rt-busybox-rootfs"

const (
	passwdContent = "root:x:0:0:root:/root:/bin/sh\n" +
		"app:x:1000:1000:app:/home/app:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	groupContent = "root:x:0:\n" +
		"app:x:1000:\n" +
		"extra:x:2000:app\n" +
		"nogroup:x:65534:\n"
	hostnameContent = "oci-rt\n"
)

// mu serialises cache creation inside one process; other processes are
// handled by the atomic rename.
var mu sync.Mutex

// CheckBusybox reports, as an error wrapping ErrNoBusybox, whether
// BusyboxPath is missing or not statically linked.
func CheckBusybox() error {
	f, err := elf.Open(BusyboxPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s not found: %w", BusyboxPath, ErrNoBusybox)
		}
		return fmt.Errorf("%s: %v: %w", BusyboxPath, err, ErrNoBusybox)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: %w", BusyboxPath, ErrNoBusybox)
		}
	}
	return nil
}

// Build creates an OCI bundle in dir (created if needed): dir/rootfs holding
// the busybox root filesystem, and dir/config.json holding
// specdefault.Example() with process.terminal set to false and, when args is
// not empty, process.args set to args. dir/rootfs must not exist yet. The
// returned spec is the one written; callers may modify it and save it again
// with WriteConfig.
func Build(dir string, args []string) (*specs.Spec, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := BuildRootfs(filepath.Join(dir, "rootfs")); err != nil {
		return nil, err
	}
	s := specdefault.Example()
	s.Process.Terminal = false
	if len(args) > 0 {
		s.Process.Args = append([]string(nil), args...)
	}
	if err := WriteConfig(dir, s); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteConfig writes s as dir/config.json, indented like "runc spec" does.
func WriteConfig(dir string, s *specs.Spec) error {
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), append(data, '\n'), 0o644)
}

// BuildRootfs creates the busybox root filesystem at rootfs, which must not
// exist yet:
//
//	bin/busybox            a copy of /bin/busybox
//	bin/<applet>           symlinks to busybox for every applet
//	sbin, usr/bin          empty
//	etc/passwd             root 0, app 1000 (home /home/app), nobody 65534
//	etc/group              root 0, app 1000, extra 2000 (member app), nogroup 65534
//	etc/hostname           "oci-rt"
//	proc sys dev home      empty, 0755
//	tmp                    empty, 1777
//	root                   empty, 0700
//	home/app               empty, 0755
//
// All files are owned by the calling user. Every file is a private copy (no
// hard links), so a test may chown or modify its bundle freely.
func BuildRootfs(rootfs string) error {
	if err := CheckBusybox(); err != nil {
		return err
	}
	if _, err := os.Lstat(rootfs); err == nil {
		return fmt.Errorf("%s already exists", rootfs)
	}
	cache, err := ensureCache()
	if err != nil {
		// The cache is only an optimisation: build directly instead.
		return populate(rootfs)
	}
	if err := copyTree(cache, rootfs); err != nil {
		return fmt.Errorf("copy cached rootfs %s to %s: %w", cache, rootfs, err)
	}
	return nil
}

// CacheDir returns the path of the cached root filesystem for the current
// user and the current /bin/busybox. It may not exist yet.
func CacheDir() (string, error) {
	fi, err := os.Stat(BusyboxPath)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "layout=%s\nuid=%d\nsize=%d\nmtime=%d\n",
		cacheLayout, os.Geteuid(), fi.Size(), fi.ModTime().UnixNano())
	key := hex.EncodeToString(h.Sum(nil))[:16]
	return filepath.Join(os.TempDir(), cachePrefix+"-"+key), nil
}

// ensureCache returns the cache directory, creating it if needed.
func ensureCache() (string, error) {
	mu.Lock()
	defer mu.Unlock()

	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	if cacheValid(cache) {
		return cache, nil
	}
	// A cache that exists but is not valid has been damaged (for instance
	// by a /tmp cleaner): move it aside and remove it.
	if _, err := os.Lstat(cache); err == nil {
		junk, err := os.MkdirTemp(os.TempDir(), cachePrefix+".old-")
		if err != nil {
			return "", err
		}
		if err := os.Rename(cache, filepath.Join(junk, "rootfs")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(junk)
			return "", err
		}
		os.RemoveAll(junk)
	}

	tmp, err := os.MkdirTemp(os.TempDir(), cachePrefix+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	staged := filepath.Join(tmp, "rootfs")
	if err := populate(staged); err != nil {
		return "", err
	}
	if err := os.Rename(staged, cache); err != nil {
		// Another process may have won the race.
		if cacheValid(cache) {
			return cache, nil
		}
		return "", err
	}
	return cache, nil
}

// cacheValid performs a cheap sanity check of a cached root filesystem.
func cacheValid(cache string) bool {
	want, err := os.Stat(BusyboxPath)
	if err != nil {
		return false
	}
	got, err := os.Lstat(filepath.Join(cache, "bin", "busybox"))
	if err != nil || !got.Mode().IsRegular() || got.Size() != want.Size() {
		return false
	}
	if target, err := os.Readlink(filepath.Join(cache, "bin", "sh")); err != nil || target != "busybox" {
		return false
	}
	for _, p := range []string{"etc/passwd", "etc/group", "etc/hostname", "tmp", "home/app", "usr/bin", "sbin"} {
		if _, err := os.Lstat(filepath.Join(cache, p)); err != nil {
			return false
		}
	}
	return true
}

// applets returns the applet names busybox was built with.
func applets() ([]string, error) {
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", BusyboxPath, err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" || name == "busybox" || strings.Contains(name, "/") || name == "." || name == ".." {
			continue
		}
		names = append(names, name)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s --list printed no applets", BusyboxPath)
	}
	return names, nil
}

// populate builds the root filesystem from scratch at rootfs.
func populate(rootfs string) error {
	names, err := applets()
	if err != nil {
		return err
	}
	dirs := []struct {
		path string
		mode fs.FileMode
	}{
		{"", 0o755},
		{"bin", 0o755},
		{"sbin", 0o755},
		{"usr", 0o755},
		{"usr/bin", 0o755},
		{"etc", 0o755},
		{"proc", 0o755},
		{"sys", 0o755},
		{"dev", 0o755},
		{"tmp", 0o777 | fs.ModeSticky},
		{"root", 0o700},
		{"home", 0o755},
		{"home/app", 0o755},
	}
	for _, d := range dirs {
		p := filepath.Join(rootfs, d.path)
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
	}
	if err := CopyFile(BusyboxPath, filepath.Join(rootfs, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	for _, name := range names {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", name)); err != nil {
			return err
		}
	}
	files := []struct {
		path, content string
	}{
		{"etc/passwd", passwdContent},
		{"etc/group", groupContent},
		{"etc/hostname", hostnameContent},
	}
	for _, f := range files {
		p := filepath.Join(rootfs, f.path)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CopyFile copies the regular file src to the new file dst with mode.
func CopyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(mode); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// modeBits are the permission bits preserved by copyTree.
const modeBits = fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid

// copyTree copies the tree at src to the new path dst, like cp -a without
// ownership: directories, regular files (copied, never linked) and symlinks.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
			return os.Chmod(target, mode&modeBits)
		case mode.IsRegular():
			return CopyFile(path, target, mode&modeBits)
		case mode&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			return fmt.Errorf("%s: unsupported file type %v", path, mode.Type())
		}
	})
}
