package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const busyboxPath = "/bin/busybox"

// Container uid/gid mapping of the user-namespace scenario.
const (
	usernsHostID = 100000
	usernsSize   = 65536
)

// buildRootfs makes a busybox root filesystem: /bin/busybox (static) with a
// symlink per applet, the usual empty directories and a minimal /etc.
func buildRootfs(dir string) error {
	f, err := elf.Open(busyboxPath)
	if err != nil {
		return fmt.Errorf("%s: %v (install busybox-static)", busyboxPath, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			f.Close()
			return fmt.Errorf("%s is dynamically linked (install busybox-static)", busyboxPath)
		}
	}
	f.Close()
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	os.Chmod(filepath.Join(dir, "root"), 0o700)
	if err := copyFile(busyboxPath, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	res := runCmd(true, busyboxPath, "--list")
	if !res.ok() {
		return fmt.Errorf("busybox --list: %s", res.failure())
	}
	for _, applet := range strings.Fields(res.Stdout) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"etc/hostname": "bench\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies a tree of directories, regular files and symlinks,
// shifting owners by shift when shift >= 0.
func copyTree(src, dst string, shift int) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(target, info.Mode().Perm()|info.Mode()&fs.ModeSticky); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(p, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unsupported file type", p)
		}
		if shift >= 0 {
			return os.Lchown(target, shift, shift)
		}
		return nil
	})
}

// writeBundle makes dir/rootfs (a copy of master, owned by the mapped root
// for a user-namespace bundle) and dir/config.json.
func writeBundle(master, dir string, args []string, userns bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shift := -1
	if userns {
		shift = usernsHostID
	}
	if err := copyTree(master, filepath.Join(dir, "rootfs"), shift); err != nil {
		return err
	}
	data, err := json.MarshalIndent(benchConfig(args, userns), "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), append(data, '\n'), 0o644)
}

// benchConfig is the config.json of every bench bundle: the `runc spec`
// default (the same as `oci-rt spec` without the cgroup namespace), with
// terminal false and the default namespaces pid, network, ipc, uts and
// mount. ociVersion is 1.0.2 because crun 1.8.1 rejects 1.3.0 ("unknown
// version specified").
func benchConfig(args []string, userns bool) map[string]any {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	namespaces := []map[string]string{{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}}
	linux := map[string]any{
		"resources": map[string]any{"devices": []map[string]any{{"allow": false, "access": "rwm"}}},
		"maskedPaths": []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/tpm"},
		"readonlyPaths": []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
	}
	if userns {
		namespaces = append(namespaces, map[string]string{"type": "user"})
		m := []map[string]int{{"containerID": 0, "hostID": usernsHostID, "size": usernsSize}}
		linux["uidMappings"] = m
		linux["gidMappings"] = m
	}
	linux["namespaces"] = namespaces
	return map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal": false,
			"user":     map[string]int{"uid": 0, "gid": 0},
			"args":     args,
			"env":      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			"cwd":      "/",
			"capabilities": map[string][]string{
				"bounding": caps, "effective": caps, "permitted": caps,
			},
			"rlimits":         []map[string]any{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}},
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": "rootfs", "readonly": true},
		"hostname": "bench",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": []string{"nosuid", "noexec", "nodev"}},
			{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": []string{"nosuid", "noexec", "nodev", "ro"}},
			{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		"linux": linux,
	}
}
