package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"github.com/oci-rt/oci-rt/tests/bundle"
)

// rtModule is the Go module of the OCI runtime-tools.
const rtModule = "github.com/opencontainers/runtime-tools"

// rtBuild is a built copy of runtime-tools: the validation programs, the
// runtimetest binary and the root filesystem tarball they untar into every
// bundle.
type rtBuild struct {
	Version     string
	ModuleDir   string            // the read-only copy in the module cache
	Dir         string            // the build directory (outside the repository)
	Programs    map[string]string // program name -> executable
	Runtimetest string
	Rootfs      string // rootfs-<GOARCH>.tar.gz
	RootfsNote  string // where the rootfs came from
}

// Names returns the program names, sorted.
func (b *rtBuild) Names() []string {
	var names []string
	for n := range b.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// goCmd returns an exec.Cmd for the go tool ($GO or "go") in dir, with extra
// environment settings appended.
func goCmd(dir string, env []string, args ...string) *exec.Cmd {
	tool := os.Getenv("GO")
	if tool == "" {
		tool = "go"
	}
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// fetchRuntimeTools downloads runtime-tools at version through the Go
// module proxy (the ordinary `go mod download` in a throw-away module under
// work) and returns its directory in the module cache.
func fetchRuntimeTools(work, version string) (string, error) {
	tmp, err := os.MkdirTemp(work, "dl-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module conformancefetch\n\ngo 1.21\n"), 0o644); err != nil {
		return "", err
	}
	cmd := goCmd(tmp, []string{"GOFLAGS=-mod=mod"}, "mod", "download", "-json", rtModule+"@"+version)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v: %s", rtModule, version, err, out.String())
	}
	var info struct {
		Dir, Version, Error string
	}
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		return "", fmt.Errorf("go mod download: %v: %s", err, out.String())
	}
	if info.Error != "" {
		return "", errors.New(info.Error)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download gave no directory: %s", out.String())
	}
	return info.Dir, nil
}

// copyTree copies the regular files, directories and symlinks of src into
// dst (which must not exist), leaving out skip (relative names), with the
// files writable by the owner.
func copyTree(src, dst string, skip map[string]bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if skip[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return bundle.CopyFile(p, target, info.Mode().Perm()|0o200)
		}
		return nil
	})
}

// validationMains finds the validation programs in the runtime-tools
// source: validation/<name>/*.go main packages (the layout since 2018) or
// validation/<name>.go main files (the older layout). It returns program
// name -> build target (a package directory or a file, relative to src).
func validationMains(src string) (map[string]string, error) {
	mains := map[string]string{}
	entries, err := os.ReadDir(filepath.Join(src, "validation"))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			files, _ := filepath.Glob(filepath.Join(src, "validation", name, "*.go"))
			for _, f := range files {
				if !strings.HasSuffix(f, "_test.go") && isMainFile(f) {
					mains[name] = "./validation/" + name
					break
				}
			}
			continue
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") &&
			isMainFile(filepath.Join(src, "validation", name)) {
			mains[strings.TrimSuffix(name, ".go")] = "./validation/" + name
		}
	}
	if len(mains) == 0 {
		return nil, fmt.Errorf("no validation programs under %s/validation", src)
	}
	return mains, nil
}

func isMainFile(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "package ") {
			return strings.TrimSpace(strings.TrimPrefix(l, "package ")) == "main"
		}
	}
	return false
}

// buildStamp identifies a finished build; a build directory whose stamp
// differs is rebuilt.
func buildStamp(version string) string {
	return fmt.Sprintf("%s %s %s/%s layout=1\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// prepareRuntimeTools returns a built runtime-tools, reusing the build in
// work/build-<version> when its stamp matches. Builds are serialised with a
// lock file so concurrent runs share one build.
func prepareRuntimeTools(work, version string, logf func(string, ...any)) (*rtBuild, error) {
	dir := filepath.Join(work, "build-"+version)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(work, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	modDir, err := fetchRuntimeTools(work, version)
	if err != nil {
		return nil, err
	}
	b := &rtBuild{Version: version, ModuleDir: modDir, Dir: dir}
	src := filepath.Join(dir, "src")
	bin := filepath.Join(dir, "bin")
	stampFile := filepath.Join(dir, "stamp")

	if old, err := os.ReadFile(stampFile); err != nil || string(old) != buildStamp(version) {
		logf("building runtime-tools %s in %s", version, dir)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		// The module zip has vendor/modules.txt but not the vendored
		// code: leave vendor/ out and resolve the dependencies from
		// go.mod/go.sum through the module proxy (-mod=mod).
		if err := copyTree(modDir, src, map[string]bool{"vendor": true}); err != nil {
			return nil, fmt.Errorf("copy %s: %w", modDir, err)
		}
		mains, err := validationMains(src)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return nil, err
		}
		env := []string{"GOFLAGS=-mod=mod -buildvcs=false"}
		// runtimetest runs inside the busybox rootfs: build it static,
		// like runtime-tools' Makefile does.
		if err := goCmd(src, append(env, "CGO_ENABLED=0"), "build", "-tags", "netgo osusergo",
			"-o", filepath.Join(bin, "runtimetest"), "./cmd/runtimetest").Run(); err != nil {
			return nil, fmt.Errorf("build runtimetest: %w", err)
		}
		var pkgs []string
		for name, target := range mains {
			if strings.HasSuffix(target, ".go") {
				if err := goCmd(src, env, "build", "-o", filepath.Join(bin, name+".t"), target).Run(); err != nil {
					return nil, fmt.Errorf("build %s: %w", target, err)
				}
				continue
			}
			pkgs = append(pkgs, target)
		}
		if len(pkgs) > 0 {
			sort.Strings(pkgs)
			tdir := filepath.Join(dir, "pkgbin")
			if err := goCmd(src, env, append([]string{"build", "-o", tdir + "/"}, pkgs...)...).Run(); err != nil {
				return nil, fmt.Errorf("build validation programs: %w", err)
			}
			for _, p := range pkgs {
				name := filepath.Base(p)
				if err := os.Rename(filepath.Join(tdir, name), filepath.Join(bin, name+".t")); err != nil {
					return nil, err
				}
			}
			os.RemoveAll(tdir)
		}
		if err := os.WriteFile(stampFile, []byte(buildStamp(version)), 0o644); err != nil {
			return nil, err
		}
	}

	b.Programs = map[string]string{}
	ts, _ := filepath.Glob(filepath.Join(bin, "*.t"))
	for _, t := range ts {
		b.Programs[strings.TrimSuffix(filepath.Base(t), ".t")] = t
	}
	if len(b.Programs) == 0 {
		return nil, fmt.Errorf("no validation programs in %s", bin)
	}
	b.Runtimetest = filepath.Join(bin, "runtimetest")

	// The programs untar rootfs-<GOARCH>.tar.gz from their working
	// directory. The module ships it for amd64 and 386; elsewhere build an
	// equivalent one from Debian's static busybox.
	name := fmt.Sprintf("rootfs-%s.tar.gz", runtime.GOARCH)
	b.Rootfs = filepath.Join(src, name)
	b.RootfsNote = "from the module"
	if _, err := os.Stat(b.Rootfs); err != nil {
		b.Rootfs = filepath.Join(dir, name)
		b.RootfsNote = "built from " + bundle.BusyboxPath
		if _, err := os.Stat(b.Rootfs); err != nil {
			if err := buildBusyboxTarball(dir, b.Rootfs); err != nil {
				return nil, fmt.Errorf("%s is not in the module and building one failed: %w", name, err)
			}
		}
	}
	return b, nil
}

// buildBusyboxTarball writes a rootfs tarball like runtime-tools' one (the
// tree at the top of the archive: ./bin/busybox and its applets …) made
// with tests/bundle from the host's static busybox.
func buildBusyboxTarball(dir, tarball string) error {
	if err := bundle.CheckBusybox(); err != nil {
		return err
	}
	root := filepath.Join(dir, "busybox-rootfs")
	os.RemoveAll(root)
	if err := bundle.BuildRootfs(root); err != nil {
		return err
	}
	defer os.RemoveAll(root)
	tmp := tarball + ".tmp"
	out, err := exec.Command("tar", "-czf", tmp, "-C", root, ".").CombinedOutput()
	if err != nil {
		return fmt.Errorf("tar: %v: %s", err, out)
	}
	return os.Rename(tmp, tarball)
}
